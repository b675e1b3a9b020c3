"""Plans: list, one plan, its tree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from service import plans
from service.deps import StoreDep
from service.models import PlanSummary, PlanTree

router = APIRouter(prefix="/api/plans", tags=["plans"])


@router.get("")
def list_plans(store: StoreDep, response: Response,
               q: Annotated[str, Query(max_length=200,
                                       description="only plans with this in their id, pemda, perangkat daerah or title")] = "",
               # bounded: the engine takes SKIP modulo 2^32 (4294967296 skipped nothing)
               offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="skip this many plans (in id order)")] = 0,
               limit: Annotated[int | None, Query(ge=1, le=1000, description="at most this many plans")] = None) -> list[PlanSummary]:
    """Loaded plans with counts per level, indikator, jabatan and total anggaran, in id order: every one,
    or with q / offset / limit one page of them (X-Total-Count then says how many match)."""
    if not q.strip() and not offset and limit is None:
        return plans.list_plans(store)
    page, matching, _total = plans.plans_page(store, q, offset, limit or 1000)
    response.headers["X-Total-Count"] = str(matching)
    return page


@router.get("/{plan_id}")
def get_plan(plan_id: str, store: StoreDep) -> PlanSummary:
    """One plan's summary."""
    return plans.get_plan(store, plan_id)


@router.get("/{plan_id}/tree")
def get_tree(plan_id: str, store: StoreDep) -> PlanTree:
    """Every element of the plan with parents, indikator, anggaran, nomenklatur and jabatan."""
    return plans.get_tree(store, plan_id)
