"""Reading plans back from the store as models: the list of plans and a plan's tree."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from service.errors import NotFound
from service.models import IndikatorOut, Nomenklatur, PlanSummary, PlanTree, SourceRef, TreeElement
from service.store import GraphStore

COUNT_KEYS = ("tujuan", "sasaran", "program", "kegiatan", "sub_kegiatan", "indikator", "jabatan")


def _summary(row: dict[str, Any]) -> PlanSummary:
    """A plan as list_plans, list_plans_page and get_plan_summary return it (plain columns)."""
    return PlanSummary(
        id=row["id"], pemda=row["pemda"], perangkat_daerah=row["perangkat_daerah"], tahun=row.get("tahun"),
        periode=row.get("periode"), kind=row["kind"], title=row.get("title"), source_document=row.get("source_document"),
        loaded_at=row.get("loaded_at"),
        counts={k: int(row.get(f"n_{k}") or 0) for k in COUNT_KEYS},
        anggaran_total=None if row.get("anggaran_total") is None else int(row["anggaran_total"]),
    )


def list_plans(store: GraphStore) -> list[PlanSummary]:
    return [_summary(r) for r in store.read("list_plans")]


def plans_page(store: GraphStore, q: str = "", offset: int = 0, limit: int = 50) -> tuple[list[PlanSummary], int, int]:
    """The plans matching `q` (in id, pemda, perangkat daerah or title, any case) from `offset`, at most
    `limit`, in id order; with how many match and how many are loaded."""
    term = q.replace("\x00", "").strip().lower()  # a NUL no name holds (the engine refuses it in a parameter)
    total = int(store.read("count_plans")[0]["total"])
    matching = int(store.read("count_plans_matching", q=term)[0]["matching"]) if term else total
    rows = store.read("list_plans_page", q=term, skip=offset, limit=limit)
    return [_summary(r) for r in rows], matching, total


def get_plan(store: GraphStore, plan_id: str) -> PlanSummary:
    """Raises: NotFound when no such plan is loaded."""
    rows = store.read("get_plan_summary", plan_id=plan_id)
    if not rows:
        raise NotFound(f"no plan {plan_id!r} is loaded")
    return _summary(rows[0])


def indikator_out(row: dict[str, Any]) -> IndikatorOut:
    # One validation builds the per-year Nilai too (half the time of building each Nilai first).
    values = json.loads(row.get("values_json") or "{}")
    return IndikatorOut.model_validate({
        "id": row["id"], "name": row["name"], "satuan": row.get("satuan"), "polaritas": row.get("polaritas"),
        "formula": row.get("formula"), "sumber_data": row.get("sumber_data"),
        "target": values.get("target", {}), "realisasi": values.get("realisasi", {}), "capaian": values.get("capaian", {}),
    })


def local_ref(plan_id: str, element_uid: str) -> str:
    """A parent as the plan file writes it: a local id in the same plan, "plan/id" across plans."""
    prefix = plan_id + "/"
    return element_uid[len(prefix):] if element_uid.startswith(prefix) else element_uid


def element_out(plan_id: str, e: dict[str, Any], parents: list[str], indikator: list[dict[str, Any]],
                jabatan: list[dict[str, Any]]) -> TreeElement:
    """One element as the tree shows it; `jabatan` are the owners as {id, name}."""
    owners = sorted((j for j in jabatan if j), key=lambda j: j["id"])
    anggaran = {
        "pagu": e.get("pagu"), "raw": e.get("anggaran_raw"), "wellformed": e.get("anggaran_wellformed"),
        "realisasi": e.get("realisasi_anggaran"), "realisasi_raw": e.get("realisasi_raw"),
        "realisasi_wellformed": e.get("realisasi_wellformed"), "versi": e.get("anggaran_versi"),
    }
    return TreeElement(
        id=e["id"], level=e["level"], statement=e["statement"],
        nomenklatur=Nomenklatur(name=e.get("nomenklatur_name"), code=e.get("code")),
        anggaran=anggaran,
        indikator=[indikator_out(i) for i in indikator if i],
        parents=sorted(local_ref(plan_id, p) for p in parents),
        jabatan=[j["name"] for j in owners],
        jabatan_ids=[j["id"] for j in owners],
        source=SourceRef(line=e.get("source_line"), section=e.get("source_section")),
        absent=list(e.get("absent") or []),
    )


def get_tree(store: GraphStore, plan_id: str) -> PlanTree:
    """Raises: NotFound when no such plan is loaded."""
    summary = get_plan(store, plan_id)
    rows = store.read("get_plan_tree", plan_id=plan_id)
    return PlanTree(plan=summary, elements=[
        element_out(plan_id, r["element"], r["parents"], r["indikator"], r["jabatan"]) for r in rows
    ])


class JabatanOut(BaseModel):
    id: str
    name: str
    level: str
    unit: str | None = None
    atasan: str | None = None
    elements: list[str] = []


class ExternalElement(BaseModel):
    """An element of another plan that this plan's elements contribute to (e.g. a sasaran RPJMD)."""

    uid: str
    plan: str
    id: str
    level: str
    statement: str
    parents: list[str]
    indikator: list[str]
    jabatan: list[dict[str, Any]]


class PlanGraph(BaseModel):
    """Everything a diagram of one plan needs: its tree, its jabatan, and what it contributes to elsewhere."""

    tree: PlanTree
    jabatan: list[JabatanOut]
    external: list[ExternalElement]


def get_jabatan(store: GraphStore, plan_id: str) -> list[JabatanOut]:
    return [JabatanOut(**{k: v for k, v in r["jabatan"].items() if k != "seq"}, atasan=r["atasan"], elements=r["elements"])
            for r in store.read("list_jabatan", plan_id=plan_id)]


def get_plan_graph(store: GraphStore, plan_id: str) -> PlanGraph:
    """Raises: NotFound when no such plan is loaded."""
    tree = get_tree(store, plan_id)
    external = [ExternalElement(**r["element"], parents=r["parents"], indikator=r["indikator"], jabatan=r["jabatan"])
                for r in store.read("get_external_ancestors", plan_id=plan_id)]
    return PlanGraph(tree=tree, jabatan=get_jabatan(store, plan_id), external=external)
