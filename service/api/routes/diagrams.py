"""Diagrams of a plan as SVG, PNG or PDF."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from service.deps import SettingsDep, StoreDep
from viz.diagrams import render
from viz.service import diagram

router = APIRouter(prefix="/api/plans", tags=["diagrams"])
MEDIA = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}


@router.get("/{plan_id}/diagram.{fmt}", response_class=Response,
            responses={200: {"content": {m: {} for m in MEDIA.values()}, "description": "the rendered diagram"}})
def get_diagram(
    plan_id: str, fmt: Literal["svg", "png", "pdf"], store: StoreDep, settings: SettingsDep,
    view: Annotated[Literal["pohon", "distribusi", "jabatan"], Query(description="which chart")] = "pohon",
    jabatan: Annotated[str | None, Query(description="jabatan id, for view=jabatan")] = None,
    cut: Annotated[list[str] | None, Query(description="what-if: element ids to cut (overlay)")] = None,
    checks: Annotated[bool, Query(description="mark check findings (overlay)")] = False,
    collapse: Annotated[str | None, Query(description="hide levels below this one, e.g. kegiatan")] = None,
    sasaran: Annotated[str | None, Query(description="draw only this sasaran's branch")] = None,
) -> Response:
    """The pohon kinerja, the distribution to jabatan, or one jabatan's cascade, with optional overlays."""
    graph = diagram(store, plan_id, view, jabatan=jabatan, cut=cut, checks=checks, collapse=collapse, sasaran=sasaran,
                    settings=settings)
    return Response(render(graph, fmt), media_type=MEDIA[fmt],
                    headers={"Content-Disposition": f'inline; filename="{plan_id}-{view}.{fmt}"'})
