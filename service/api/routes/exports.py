"""The check report of a plan as files to download: CSV and an Excel workbook."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service import checks
from service.config import Settings
from service.deps import SettingsDep, StoreDep
from service.store import GraphStore

router = APIRouter(prefix="/api/plans", tags=["exports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RuleFilter = Annotated[list[str] | None, Query(description="run only these rules")]
MAX_WIDTH = 80  # characters; longer cells wrap


def _report(store: GraphStore, settings: Settings, plan_id: str, rule: list[str] | None) -> checks.CheckReport:
    return checks.run_checks(store, plan_id, checks.config_from_settings(settings), only=rule)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@router.get("/{plan_id}/checks.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one row per finding"}})
def checks_csv(plan_id: str, store: StoreDep, settings: SettingsDep, rule: RuleFilter = None) -> Response:
    """The findings of /checks as CSV: plan, rule, severity, node_ids (space-separated), message."""
    return Response(checks.to_csv(_report(store, settings, plan_id, rule)), media_type="text/csv; charset=utf-8",
                    headers=_attachment(f"{plan_id}-checks.csv"))


def _sheet(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Fill a sheet as plain text: bold frozen header, an autofilter, widths from the content."""
    ws.append(list(header))
    for row in rows:
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) for v in row])
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            # Text from plan files must stay text: openpyxl would store "=..." as a formula.
            cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    for n, name in enumerate(header, start=1):
        longest = max((len(str(r[n - 1])) for r in rows), default=0)
        ws.column_dimensions[get_column_letter(n)].width = min(max(longest, len(name)) + 2, MAX_WIDTH)


def to_xlsx(report: checks.CheckReport) -> bytes:
    """A workbook with the findings (sheet "Temuan") and every rule with its explanations (sheet "Aturan")."""
    wb = Workbook()
    temuan = wb.active
    temuan.title = "Temuan"
    _sheet(temuan, ["Aturan", "Tingkat", "Elemen", "Pesan"],
           [[f.rule, f.severity, ", ".join(f.node_ids), f.message] for f in report.findings])
    _sheet(wb.create_sheet("Aturan"), ["Aturan", "Tingkat", "Penjelasan", "Explanation"],
           [[r.id, r.severity, r.explain_id, r.explain_en] for r in report.rules])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@router.get("/{plan_id}/checks.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "sheets Temuan (findings) and Aturan (rules)"}})
def checks_xlsx(plan_id: str, store: StoreDep, settings: SettingsDep, rule: RuleFilter = None) -> Response:
    """The findings of /checks as an Excel workbook, with a sheet explaining every rule in Indonesian and English."""
    return Response(to_xlsx(_report(store, settings, plan_id, rule)), media_type=XLSX,
                    headers=_attachment(f"{plan_id}-checks.xlsx"))
