"""Analysis of a plan: trace of an element, impact of a cut, checks, capaian."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from service import alignment, capaian, checks, impact
from service.config import Settings
from service.deps import SettingsDep, StoreDep, model_json
from service.plans import get_tree
from service.store import GraphStore

router = APIRouter(prefix="/api/plans", tags=["analysis"])


# Coroutines: they wait for the engine's reply on the event loop (store.aread), not in a worker thread.
# The hop to a thread and back was about 100 us of CPU per request, a tenth of one under 16 clients.
@router.get("/{plan_id}/nodes/{node}/trace", response_model=alignment.Trace)
async def trace(plan_id: str, node: str, store: StoreDep) -> Response:
    """Every path from the element up to the tujuan (and into other plans), and the subtree below it."""
    return model_json(await alignment.atrace(store, plan_id, node))


@router.get("/{plan_id}/impact", response_model=impact.ImpactResult)
async def impact_of_cut(plan_id: str, store: StoreDep,
                        cut: Annotated[list[str], Query(description="element id to cut; repeat for several")]) -> Response:
    """What a cut removes, which ancestors lose support, indikator and jabatan left without anything to show."""
    return model_json(await impact.aimpact(store, plan_id, cut))


class ChecksOut(checks.BaseModel):
    plan: str
    findings: list[checks.Finding]
    rules: list[checks.RuleInfo]


@router.get("/{plan_id}/checks")
def run_checks(plan_id: str, store: StoreDep, settings: SettingsDep,
               rule: Annotated[list[str] | None, Query(description="run only these rules")] = None) -> ChecksOut:
    """Findings of every check rule on the plan: rule, severity, node_ids, message, values."""
    report = checks.run_checks(store, plan_id, checks.config_from_settings(settings), only=rule)
    return ChecksOut(plan=report.plan, findings=report.findings, rules=report.rules)


class PlanFindings(checks.BaseModel):
    plan: str
    findings: list[checks.Finding]
    counts: dict[str, int]


class ManyChecksOut(checks.BaseModel):
    pemda: str | None
    counts: dict[str, int]
    reports: list[PlanFindings]
    rules: list[checks.RuleInfo]  # once for all plans


checks_router = APIRouter(prefix="/api", tags=["analysis"])


@checks_router.get("/checks")
def run_checks_many(store: StoreDep, settings: SettingsDep,
                    plan: Annotated[list[str] | None, Query(description="plan id; repeat for several")] = None,
                    pemda: Annotated[str | None, Query(description="every loaded plan of this pemda")] = None,
                    rule: Annotated[list[str] | None, Query(description="run only these rules")] = None) -> ManyChecksOut:
    """Findings of every check rule over several plans at once (a whole pemda: one query per rule)."""
    from service.errors import QueryError

    ids = list(plan or []) + (checks.plans_of_pemda(store, pemda) if pemda else [])
    if not ids:
        raise QueryError("name plans (plan=ID, repeatable) or a pemda (pemda=NAME)")
    reports = checks.run_checks_many(store, ids, checks.config_from_settings(settings), only=rule)
    return ManyChecksOut(pemda=pemda, counts=checks.total_counts(reports), rules=reports[0].rules,
                         reports=[PlanFindings(plan=r.plan, findings=r.findings, counts=r.counts()) for r in reports])


@router.get("/{plan_id}/capaian")
def plan_capaian(plan_id: str, store: StoreDep, settings: SettingsDep,
                 scale: Annotated[str | None, Query(description="predikat scale name")] = None,
                 negatif_formula: Annotated[str | None, Query(description="2t_minus_r or t_over_r")] = None,
                 ) -> capaian.CapaianReport:
    """Capaian per indikator and year by polaritas, predikat, roll-up to sasaran and tujuan, and the reported capaian."""
    config = capaian.chosen(capaian.load_config(settings.pokin_capaian_config), scale, negatif_formula)
    return capaian.plan_capaian(get_tree(store, plan_id), config)


class NodeDetail(checks.BaseModel):
    plan: str
    element: dict
    capaian: list[capaian.IndikatorCapaian]
    trace: alignment.Trace
    children: list[dict]
    findings: list[checks.Finding]


def node_detail(store: GraphStore, plan_id: str, node: str, settings: Settings,
                report: checks.CheckReport | None = None) -> NodeDetail:
    """Everything about one element: itself, its capaian, its trace, its children, the findings on it.

    `report` is the plan's check report when the caller has it already (the web pages cache it).
    """
    tree = get_tree(store, plan_id)
    by_id = {e.id: e for e in tree.elements}
    if node not in by_id:
        from service.errors import NotFound

        raise NotFound(f"plan {plan_id!r} has no element {node!r}")
    el = by_id[node]
    cap = [r for r in capaian.plan_capaian(tree, capaian.load_config(settings.pokin_capaian_config)).indikator
           if r.element_id == node]
    kids = [{"id": e.id, "level": e.level, "statement": e.statement, "pagu": e.anggaran.get("pagu")}
            for e in tree.elements if node in e.parents]
    report = report or checks.run_checks(store, plan_id, checks.config_from_settings(settings))
    return NodeDetail(plan=plan_id, element=el.model_dump(mode="json"), capaian=cap, trace=alignment.trace(store, plan_id, node),
                      children=kids, findings=[f for f in report.findings if node in f.node_ids])


@router.get("/{plan_id}/nodes/{node}")
def get_node(plan_id: str, node: str, store: StoreDep, settings: SettingsDep) -> NodeDetail:
    """One element with its indikator capaian, trace up to the tujuan, children and the check findings on it."""
    return node_detail(store, plan_id, node, settings)
