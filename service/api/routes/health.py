"""Health of the service and its graph store."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/api/health")
def health(store: StoreDep) -> dict[str, object]:
    """The engine in use and how many plans it holds (a real query, so a dead store shows)."""
    (counts,) = store.read("count_plans")
    return {"status": "ok", "engine": store.engine.name, "plans": int(counts["total"])}
