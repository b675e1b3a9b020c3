"""Trace: every path from an element up to the tujuan (across plans), and the subtree below it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from service.errors import NotFound
from service.plans import indikator_out, local_ref
from service.store import GraphStore


class TraceStep(BaseModel):
    uid: str
    plan: str
    id: str
    level: str
    statement: str
    indikator: list[dict[str, Any]]


class SubtreeNode(BaseModel):
    uid: str
    plan: str
    id: str
    level: str
    statement: str
    pagu: int | None
    parents: list[str]
    n_indikator: int


class Trace(BaseModel):
    plan: str
    node: str
    paths: list[list[TraceStep]]
    reaches: list[str]  # levels of the tops reached, e.g. ["tujuan"]
    subtree: list[SubtreeNode]


def element_uid(store: GraphStore, plan_id: str, node: str) -> str:
    """The uid of element `node` of plan `plan_id` (or of "other-plan/id").

    Raises:
        NotFound: no such element.
    """
    uid = node if "/" in node else f"{plan_id}/{node}"
    if not store.read("get_element", uid=uid):
        p, _, local = uid.partition("/")
        raise NotFound(f"plan {p!r} has no element {local!r}")
    return uid


def trace(store: GraphStore, plan_id: str, node: str) -> Trace:
    """Raises: NotFound when the plan or element is not loaded."""
    uid = element_uid(store, plan_id, node)
    rows = store.read("trace_paths_up", uid=uid)
    uids = sorted({s["uid"] for r in rows for s in r["path"]})
    ind: dict[str, list[dict[str, Any]]] = {}
    for r in store.read("get_element_indikator", uids=uids):
        i = indikator_out(r["indikator"])
        ind.setdefault(r["element_uid"], []).append(
            {"name": i.name, "satuan": i.satuan, "target": {y: n.raw for y, n in sorted(i.target.items())}})
    paths = [[TraceStep(**s, indikator=ind.get(s["uid"], [])) for s in r["path"]] for r in rows]
    sub = [
        SubtreeNode(**{k: r["element"].get(k) for k in ("uid", "plan", "id", "level", "statement", "pagu")},
                    parents=sorted(local_ref(plan_id, p) for p in r["parents"]), n_indikator=r["n_indikator"])
        for r in store.read("trace_subtree_down", uid=uid)
    ]
    return Trace(plan=plan_id, node=node, paths=paths, reaches=sorted({p[-1].level for p in paths}), subtree=sub)
