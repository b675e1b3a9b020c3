"""Trace: every path from an element up to the tujuan (across plans), and the subtree below it."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from service.errors import NotFound
from service.plans import local_ref
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
    anggaran_raw: str | None = None  # the pagu as written
    anggaran_wellformed: bool | None = None  # False: the pagu is read from a malformed figure (a guess)
    parents: list[str]
    n_indikator: int


class Trace(BaseModel):
    plan: str
    node: str
    paths: list[list[TraceStep]]
    reaches: list[str]  # levels of the tops reached, e.g. ["tujuan"]
    subtree: list[SubtreeNode]


def _no_element(uid: str) -> NotFound:
    p, _, local = uid.partition("/")
    return NotFound(f"plan {p!r} has no element {local!r}")


def _plans_asked(plan_id: str, uid: str) -> list[str]:
    return list(dict.fromkeys([plan_id, uid.partition("/")[0]]))


def _missing(plan_id: str, uid: str, loaded: set[str]) -> NotFound:
    """What is missing: the plan asked about, the element's other plan, or else the element."""
    for p in _plans_asked(plan_id, uid):
        if p not in loaded:
            return NotFound(f"no plan {p!r} is loaded")
    return _no_element(uid)


def missing(store: GraphStore, plan_id: str, uid: str) -> NotFound:
    """The NotFound for an element `uid` asked for in plan `plan_id` that is not there (one more read, on
    the error path only)."""
    return _missing(plan_id, uid, {r["id"] for r in store.read("get_plans_exist", plan_ids=_plans_asked(plan_id, uid))})


async def amissing(store: GraphStore, plan_id: str, uid: str) -> NotFound:
    """missing() for a coroutine."""
    rows = await store.aread("get_plans_exist", plan_ids=_plans_asked(plan_id, uid))
    return _missing(plan_id, uid, {r["id"] for r in rows})


def trace(store: GraphStore, plan_id: str, node: str) -> Trace:
    """Raises: NotFound when the plan or element is not loaded."""
    uid = node_uid(plan_id, node)
    rows = store.read("trace_rows", uid=uid)  # paths up (each step with its indikator) and the subtree
    if not rows and not store.read("get_element", uid=uid):  # an element has at least the path of itself
        raise missing(store, plan_id, uid)
    return trace_of_rows(plan_id, node, rows)


async def atrace(store: GraphStore, plan_id: str, node: str) -> Trace:
    """trace() for a coroutine (the API): the same rows, read with store.aread.

    Raises: NotFound when the plan or element is not loaded."""
    uid = node_uid(plan_id, node)
    rows = await store.aread("trace_rows", uid=uid)
    if not rows and not await store.aread("get_element", uid=uid):
        raise await amissing(store, plan_id, uid)
    return trace_of_rows(plan_id, node, rows)


def node_uid(plan_id: str, node: str) -> str:
    """The uid of element `node` of plan `plan_id`, or of "other-plan/id"."""
    return node if "/" in node else f"{plan_id}/{node}"


def trace_of_rows(plan_id: str, node: str, rows: list[dict[str, Any]]) -> Trace:
    """The trace of an element from the rows of cypher/trace_rows.cypher."""
    # shortest first, then by where they end and pass (two paths of a length to one tujuan: not the engine's order)
    ups = sorted((r for r in rows if r["part"] == "path"), key=lambda r: (r["hops"], r["top_uid"], [s["uid"] for s in r["path"]]))
    below = sorted((r for r in rows if r["part"] == "below"), key=lambda r: (r["element"]["plan"], r["element"]["seq"]))
    steps: dict[str, list[dict[str, Any]]] = {}  # each element's indikator once, however many paths it is on
    for r in ups:
        for s in r["path"]:
            if s["uid"] not in steps:
                steps[s["uid"]] = [_trace_indikator(i) for i in sorted(s["indikator"], key=lambda i: i["seq"])]
    paths = [[TraceStep(**{**s, "indikator": steps[s["uid"]]}) for s in r["path"]] for r in ups]
    sub = [
        SubtreeNode(**{k: r["element"].get(k) for k in ("uid", "plan", "id", "level", "statement", "pagu", "anggaran_raw",
                                                        "anggaran_wellformed")},
                    parents=sorted(local_ref(plan_id, p) for p in r["parents"]), n_indikator=r["n_indikator"])
        for r in below
    ]
    return Trace(plan=plan_id, node=node, paths=paths, reaches=sorted({p[-1].level for p in paths}), subtree=sub)


def _trace_indikator(row: dict[str, Any]) -> dict[str, Any]:
    """An indikator as a trace step shows it: name, satuan, and its targets as written, by year."""
    target = json.loads(row.get("values_json") or "{}").get("target", {})
    return {"name": row["name"], "satuan": row.get("satuan"),
            "target": {int(y): target[y]["raw"] for y in sorted(target, key=int)}}
