"""Plans: list, one plan, its tree."""

from __future__ import annotations

from fastapi import APIRouter

from service import plans
from service.deps import StoreDep
from service.models import PlanSummary, PlanTree

router = APIRouter(prefix="/api/plans", tags=["plans"])


@router.get("")
def list_plans(store: StoreDep) -> list[PlanSummary]:
    """Every loaded plan with counts per level, indikator, jabatan and total anggaran."""
    return plans.list_plans(store)


@router.get("/{plan_id}")
def get_plan(plan_id: str, store: StoreDep) -> PlanSummary:
    """One plan's summary."""
    return plans.get_plan(store, plan_id)


@router.get("/{plan_id}/tree")
def get_tree(plan_id: str, store: StoreDep) -> PlanTree:
    """Every element of the plan with parents, indikator, anggaran, nomenklatur and jabatan."""
    return plans.get_tree(store, plan_id)
