"""The jabatan of a plan: who owns what, who reports to whom, and how one jabatan's elements link up and down."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from service import plans
from service.deps import StoreDep
from service.errors import NotFound
from service.models import JabatanLevel, TreeElement
from service.plans import JabatanOut
from service.store import GraphStore

router = APIRouter(prefix="/api/plans", tags=["jabatan"])
LEVEL_RANK = {level.value: n for n, level in enumerate(JabatanLevel)}


class JabatanDetail(BaseModel):
    jabatan: JabatanOut
    atasan: list[JabatanOut]  # the chain upwards: direct atasan first
    bawahan: list[JabatanOut]  # direct reports
    elements: list[TreeElement]  # the elements it owns, in document order
    contributes_to: list[str]  # parents of its elements that it does not own itself ("plan/id" across plans)
    contributors: list[str]  # elements of the plan contributing to its elements that it does not own itself


def _jabatan(store: GraphStore, plan_id: str) -> list[JabatanOut]:
    plans.get_plan(store, plan_id)  # NotFound for an unknown plan rather than an empty list
    return sorted(plans.get_jabatan(store, plan_id), key=lambda j: LEVEL_RANK.get(j.level, len(LEVEL_RANK)))


@router.get("/{plan_id}/jabatan")
def list_jabatan(plan_id: str, store: StoreDep) -> list[JabatanOut]:
    """The jabatan of the plan from the top level down (document order within a level), with atasan and elements owned."""
    return _jabatan(store, plan_id)


@router.get("/{plan_id}/jabatan/{jabatan_id}")
def get_jabatan(plan_id: str, jabatan_id: str, store: StoreDep) -> JabatanDetail:
    """One jabatan: its atasan chain, its bawahan, the elements it owns, and what they contribute to and receive from."""
    all_jabatan = _jabatan(store, plan_id)
    by_id = {j.id: j for j in all_jabatan}
    if jabatan_id not in by_id:
        raise NotFound(f"plan {plan_id!r} has no jabatan {jabatan_id!r}")
    me = by_id[jabatan_id]
    chain: list[JabatanOut] = []
    up = me.atasan
    while up in by_id and by_id[up] not in chain and up != me.id:  # the loader refuses cycles; stay bounded anyway
        chain.append(by_id[up])
        up = by_id[up].atasan
    tree = plans.get_tree(store, plan_id).elements
    owned = [e for e in tree if jabatan_id in e.jabatan_ids]
    own_ids = {e.id for e in owned}
    contributes_to = [p for p in dict.fromkeys(p for e in owned for p in e.parents) if p not in own_ids]
    contributors = [e.id for e in tree if e.id not in own_ids and own_ids.intersection(e.parents)]
    return JabatanDetail(jabatan=me, atasan=chain, bawahan=[j for j in all_jabatan if j.atasan == jabatan_id],
                         elements=owned, contributes_to=contributes_to, contributors=contributors)
