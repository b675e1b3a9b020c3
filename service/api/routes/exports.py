"""The check report and the capaian of a plan as files to download: CSV and Excel workbooks."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service import capaian, checks
from service.config import Settings
from service.deps import SettingsDep, StoreDep
from service.plans import get_tree
from service.store import GraphStore

router = APIRouter(prefix="/api/plans", tags=["exports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RuleFilter = Annotated[list[str] | None, Query(description="run only these rules")]
MAX_WIDTH = 80  # characters; longer cells wrap


def _report(store: GraphStore, settings: Settings, plan_id: str, rule: list[str] | None) -> checks.CheckReport:
    return checks.run_checks(store, plan_id, checks.config_from_settings(settings), only=rule)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(v: Any) -> Any:
    """A CSV cell as a spreadsheet will open it: text that it would run as a formula ('=...', '+...',
    '@...', '-...') gets a leading apostrophe, as OWASP advises for CSV downloads; numbers, and text
    that reads as a number ('-2', '-0,5'), stay as they are."""
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        try:
            float(v.replace(",", "."))
        except ValueError:
            return "'" + v
    return v


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


@router.get("/{plan_id}/checks.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one row per finding"}})
def checks_csv(plan_id: str, store: StoreDep, settings: SettingsDep, rule: RuleFilter = None) -> Response:
    """The findings of /checks as CSV: plan, rule, severity, node_ids (space-separated), message. Text that
    a spreadsheet would run as a formula starts with an apostrophe."""
    return Response(checks.to_csv(_report(store, settings, plan_id, rule), cell=spreadsheet_text), media_type="text/csv; charset=utf-8",
                    headers=_attachment(f"{plan_id}-checks.csv"))


def _cell(v: Any) -> Any:
    """A value as a sheet keeps it: numbers as numbers, None empty, everything else as text."""
    if v is None or (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and math.isfinite(v)):
        return v
    return ILLEGAL_CHARACTERS_RE.sub("", str(v))  # also "inf" and "nan" (the loader refuses them), as text


def _sheet(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Fill a sheet: bold frozen header, an autofilter, widths from the content; text stays text and
    numbers stay numbers (two decimals shown where they have decimals), so a sheet can sum them."""
    ws.append(list(header))
    for row in rows:
        ws.append([_cell(v) for v in row])
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                # Text from plan files must stay text: openpyxl would store "=..." as a formula.
                cell.data_type = "s"
            elif isinstance(cell.value, float):
                cell.number_format = "0.00"
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


# ---- capaian ----------------------------------------------------------------------------------------

CAPAIAN_HEADER = ["Tahun", "Elemen", "Tingkat", "Pernyataan", "Indikator", "Polaritas", "Sumber polaritas", "Target",
                  "Realisasi", "Target (angka)", "Realisasi (angka)", "Capaian", "Rumus", "Predikat", "Capaian dilaporkan",
                  "Selisih", "Catatan"]
ROLLUP_HEADER = ["Tahun", "Elemen", "Tingkat", "Pernyataan", "Jumlah indikator", "Rata-rata", "Rata-rata dibatasi",
                 "Di bawah 100", "Terendah", "Tertinggi", "Predikat", "Catatan"]
KEUANGAN_HEADER = ["Elemen", "Tingkat", "Pernyataan", "Kode", "Sasaran", "Pagu", "Realisasi", "Capaian keuangan",
                   "Capaian kinerja", "Capaian kinerja sasaran", "Catatan"]
ScaleChoice = Annotated[str | None, Query(description="predikat scale name")]


def _whole(v: float | None) -> float | int | None:
    """Rupiah as a whole number where it has no sen (so the sheet shows 2441667299, not 2441667299.00)."""
    return int(v) if v is not None and math.isfinite(v) and v.is_integer() else v
FormulaChoice = Annotated[str | None, Query(description="2t_minus_r or t_over_r")]


def _capaian(store: GraphStore, settings: Settings, plan_id: str, scale: str | None, negatif_formula: str | None
             ) -> tuple[capaian.CapaianReport, dict[str, tuple[str, str]], capaian.PredikatScale]:
    """The plan's capaian on the chosen scale and formula, each element's (level, statement), and the scale."""
    config = capaian.chosen(capaian.load_config(settings.pokin_capaian_config), scale, negatif_formula)
    tree = get_tree(store, plan_id)
    return capaian.plan_capaian(tree, config), {e.id: (e.level, e.statement) for e in tree.elements}, config.active_scale


def capaian_rows(report: capaian.CapaianReport, elements: dict[str, tuple[str, str]], words: bool = False) -> list[list[Any]]:
    """One row per indikator and year, as the capaian page's table (capaian as numbers, in percent; target
    and realisasi as written and as numbers, a range target without one); the polaritas source and the
    flags as codes (CSV, for programs) or, with `words`, in Indonesian (the workbook)."""
    def source(code: str) -> str:
        return capaian.POLARITAS_SOURCE_WORDS.get(code, code) if words else code

    def flags(codes: list[str]) -> str:
        return "; ".join(capaian.FLAG_WORDS.get(f, (f,))[0] for f in codes) if words else ", ".join(codes)

    return [[r.year, r.element_id, *elements.get(r.element_id, ("", "")), r.name, r.polaritas, source(r.polaritas_source),
             r.target.raw, r.realisasi.raw, r.target.value, r.realisasi.value, r.capaian, r.formula or r.reason, r.predikat,
             r.reported, r.difference,
             flags(r.flags)] for r in report.indikator]


@router.get("/{plan_id}/capaian.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one row per indikator and year"}})
def capaian_csv(plan_id: str, store: StoreDep, settings: SettingsDep, scale: ScaleChoice = None,
                negatif_formula: FormulaChoice = None) -> Response:
    """The capaian of /capaian as CSV: one row per indikator and year (capaian in percent, a dot for
    decimals; text that a spreadsheet would run as a formula starts with an apostrophe)."""
    report, elements, _ = _capaian(store, settings, plan_id, scale, negatif_formula)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CAPAIAN_HEADER)
    w.writerows([spreadsheet_text(v) for v in row] for row in capaian_rows(report, elements))
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers=_attachment(f"{plan_id}-capaian.csv"))


def capaian_xlsx(report: capaian.CapaianReport, elements: dict[str, tuple[str, str]], scale: capaian.PredikatScale) -> bytes:
    """A workbook: capaian per indikator and year ("Capaian"), the roll-up per element and for the plan
    ("Rata-rata"), the realisasi anggaran where the plan has one ("Keuangan"), and the scale rated with
    ("Skala")."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Capaian"
    _sheet(ws, CAPAIAN_HEADER, capaian_rows(report, elements, words=True))
    _sheet(wb.create_sheet("Rata-rata"), ROLLUP_HEADER,
           [[e.year, e.element_id or "", e.level, e.statement, e.n, e.mean, e.mean_capped, e.below_100, e.min, e.max,
             e.predikat, "; ".join(capaian.FLAG_WORDS.get(f, (f,))[0] for f in e.flags)] for e in report.elements])
    if report.keuangan:
        # the sasaran each row serves, with its capaian kinerja, as the page shows them (one number per sasaran)
        kinerja = {e.element_id: e.mean_capped for e in report.elements if e.year == report.tahun}

        def sasaran_kinerja(ids: list[str]) -> Any:
            values = [kinerja.get(s) for s in ids]
            return values[0] if len(values) == 1 else "; ".join("–" if v is None else f"{v:.2f}" for v in values) or None

        _sheet(wb.create_sheet("Keuangan"), KEUANGAN_HEADER,
               [[k.element_id or "", k.level, k.statement, k.code, ", ".join(k.sasaran), _whole(k.pagu), _whole(k.realisasi),
                 k.capaian_keuangan, k.capaian_kinerja, sasaran_kinerja(k.sasaran),
                 "; ".join(capaian.FLAG_WORDS.get(f, (f,))[0] for f in k.flags)]
                for k in report.keuangan])
    skala = wb.create_sheet("Skala")
    _sheet(skala, ["Predikat", "Dari", "Termasuk batas bawah", "Sampai", "Termasuk batas atas"],
           [[iv.predikat, iv.lo, "ya" if iv.lo_inclusive else "tidak", iv.hi, "ya" if iv.hi_inclusive else "tidak"]
            for iv in scale.intervals])
    skala.append([])  # below the table (and its filter): what the scale is and where it comes from
    for note in (f"Skala: {scale.title or scale.name} ({scale.name})", f"Sumber: {scale.source}" if scale.source else None):
        if note:
            skala.append([_cell(note)])
            skala.cell(skala.max_row, 1).data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@router.get("/{plan_id}/capaian.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "sheets Capaian, Rata-rata, Keuangan (where the plan "
                                                                   "has a realisasi anggaran) and Skala"}})
def capaian_xlsx_file(plan_id: str, store: StoreDep, settings: SettingsDep, scale: ScaleChoice = None,
                      negatif_formula: FormulaChoice = None) -> Response:
    """The capaian of /capaian as an Excel workbook: per indikator and year, the roll-up, and the scale."""
    report, elements, chosen_scale = _capaian(store, settings, plan_id, scale, negatif_formula)
    return Response(capaian_xlsx(report, elements, chosen_scale), media_type=XLSX,
                    headers=_attachment(f"{plan_id}-capaian.xlsx"))
