"""Build a diagram of a plan from the store: fetch the data, the overlays, and call the pure builders."""

from __future__ import annotations

import graphviz

from service.checks import config_from_settings, run_checks
from service.config import Settings
from service.errors import QueryError
from service.impact import impact
from service.plans import get_plan_graph
from service.store import GraphStore
from viz.diagrams import LEVELS, Overlay, build_distribusi, build_jabatan, build_pohon

VIEWS = ("pohon", "distribusi", "jabatan")


def diagram(store: GraphStore, plan_id: str, view: str = "pohon", *, jabatan: str | None = None,
            cut: list[str] | None = None, checks: bool = False, collapse: str | None = None,
            sasaran: str | None = None, settings: Settings | None = None) -> graphviz.Digraph:
    """The DOT graph of one view of a plan with the requested overlays.

    Raises:
        QueryError: unknown view or level, or view=jabatan without a jabatan.
        NotFound: unknown plan or element.
    """
    if view not in VIEWS:
        raise QueryError(f"unknown view {view!r}; use one of {', '.join(VIEWS)}")
    if collapse and collapse not in LEVELS:
        raise QueryError(f"unknown level {collapse!r}; use one of {', '.join(LEVELS)}")
    data = get_plan_graph(store, plan_id)
    report = run_checks(store, plan_id, config_from_settings(settings or Settings())) if checks else None
    result = impact(store, plan_id, cut) if cut else None
    overlay = Overlay.from_results(result, report)
    if view == "distribusi":
        return build_distribusi(data, overlay=overlay)
    if view == "jabatan":
        if not jabatan:
            raise QueryError("view=jabatan needs jabatan=<id>")
        return build_jabatan(data, jabatan, overlay=overlay)
    return build_pohon(data, collapse_below=collapse, sasaran=sasaran, overlay=overlay)
