"""The check report and the capaian as CSV and Excel downloads, on the real seed plans."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from service import capaian
from service.api.routes.exports import capaian_xlsx, spreadsheet_text, to_xlsx
from service.checks import CheckReport, Finding, RuleInfo, to_csv
from service.main import create_app
from service.models import Nilai

from .conftest import make_settings

KOTIM = "/api/plans/kotim-dinsos-2025"


@pytest.fixture()
def client(seeded_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(seeded_dir))) as c:
        yield c


@pytest.mark.integration
def test_csv(client: TestClient) -> None:
    findings = client.get(f"{KOTIM}/checks").json()["findings"]
    r = client.get(f"{KOTIM}/checks.csv")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="kotim-dinsos-2025-checks.csv"'
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["plan", "rule", "severity", "node_ids", "message"]
    assert len(rows) - 1 == len(findings)
    first = findings[0]
    assert rows[1] == ["kotim-dinsos-2025", first["rule"], first["severity"], " ".join(first["node_ids"]), first["message"]]


@pytest.mark.integration
def test_xlsx(client: TestClient) -> None:
    body = client.get(f"{KOTIM}/checks").json()
    findings, rules = body["findings"], body["rules"]
    r = client.get(f"{KOTIM}/checks.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["content-disposition"] == 'attachment; filename="kotim-dinsos-2025-checks.xlsx"'
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["Temuan", "Aturan"]

    temuan = wb["Temuan"]
    rows = list(temuan.iter_rows(values_only=True))
    assert rows[0] == ("Aturan", "Tingkat", "Elemen", "Pesan")
    assert len(rows) - 1 == len(findings)
    assert findings[0]["rule"] == "budget_rollup"  # the worst first: Kotim's kegiatan whose sub kegiatan do not add up
    assert rows[1] == (findings[0]["rule"], "error", ", ".join(findings[0]["node_ids"]), findings[0]["message"])
    assert all(c.font.bold for c in temuan[1]) and temuan.freeze_panes == "A2"
    assert temuan.column_dimensions["D"].width == 80 and temuan.column_dimensions["A"].width > len("Aturan")

    aturan = list(wb["Aturan"].iter_rows(values_only=True))
    assert aturan[0] == ("Aturan", "Tingkat", "Penjelasan", "Explanation")
    assert [row[0] for row in aturan[1:]] == [rule["id"] for rule in rules]
    assert aturan[1] == (rules[0]["id"], rules[0]["severity"], rules[0]["explain_id"], rules[0]["explain_en"])


@pytest.mark.integration
def test_rule_filter_and_unknown_plan(client: TestClient) -> None:
    only = client.get(f"{KOTIM}/checks", params={"rule": "missing_indikator"}).json()["findings"]
    rows = list(csv.reader(io.StringIO(client.get(f"{KOTIM}/checks.csv", params={"rule": "missing_indikator"}).text)))
    assert len(rows) - 1 == len(only) and {row[1] for row in rows[1:]} <= {"missing_indikator"}
    wb = load_workbook(io.BytesIO(client.get(f"{KOTIM}/checks.xlsx", params={"rule": "missing_indikator"}).content))
    assert wb["Temuan"].max_row - 1 == len(only)
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/api/plans/nope/checks.{fmt}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


@pytest.mark.unit
def test_text_that_looks_like_a_formula_stays_text() -> None:
    report = CheckReport(plan="p", findings=[Finding(rule="r", severity="info", node_ids=["a"], message="=HYPERLINK(\"x\")\x07")],
                         rules=[RuleInfo(id="r", severity="info", explain_id="-", explain_en="-", query="q")])
    cell = load_workbook(io.BytesIO(to_xlsx(report)))["Temuan"]["D2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("x")'


BULELENG = "/api/plans/buleleng-dinsos-2023"


@pytest.mark.integration
def test_capaian_csv(client: TestClient) -> None:
    api = client.get(f"{BULELENG}/capaian", params={"negatif_formula": "t_over_r"}).json()
    r = client.get(f"{BULELENG}/capaian.csv", params={"negatif_formula": "t_over_r"})
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == 'attachment; filename="buleleng-dinsos-2023-capaian.csv"'
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(api["indikator"]) == 7
    miskin = next(row for row in rows if row["Indikator"] == "Persentase penduduk miskin")
    assert (miskin["Tahun"], miskin["Elemen"], miskin["Tingkat"], miskin["Pernyataan"]) == (
        "2023", "s1-miskin", "sasaran", "Menurunnya penduduk miskin")
    assert (miskin["Target"], miskin["Realisasi"], round(float(miskin["Capaian"]), 2), miskin["Capaian dilaporkan"]) == (
        "5,15%", "5,85%", 88.03, "113.59")
    assert miskin["Rumus"] == "T / R x 100" and miskin["Predikat"] == "Tinggi"
    assert miskin["Selisih"] == "25.555811966"  # reported - recomputed, without the float noise of the subtraction
    assert miskin["Catatan"].split(", ") == next(i["flags"] for i in api["indikator"] if i["name"] == miskin["Indikator"])
    empty = list(csv.reader(io.StringIO(client.get("/api/plans/kotim-dinsos-2025/capaian.csv").text)))
    assert len(empty) == 1 and empty[0][0] == "Tahun"  # no realisasi yet: the header only


@pytest.mark.integration
def test_capaian_xlsx(client: TestClient) -> None:
    r = client.get(f"{BULELENG}/capaian.xlsx", params={"scale": "buleleng_lkjip_2023_printed"})
    assert r.status_code == 200 and r.headers["content-disposition"] == 'attachment; filename="buleleng-dinsos-2023-capaian.xlsx"'
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["Capaian", "Rata-rata", "Keuangan", "Skala"]
    ws = wb["Capaian"]
    header = [c.value for c in ws[1]]
    miskin = next(dict(zip(header, row, strict=True)) for row in ws.iter_rows(min_row=2, values_only=True)
                  if row[header.index("Indikator")] == "Persentase penduduk miskin")
    assert round(miskin["Capaian"], 2) == 86.41 and miskin["Capaian dilaporkan"] == 113.59  # numbers, to compute with
    assert round(miskin["Selisih"], 2) == 27.18 and miskin["Predikat"] == "Sangat berhasil"
    # target and realisasi as written, and as numbers to recompute with in the sheet
    assert (miskin["Target"], miskin["Target (angka)"], miskin["Realisasi (angka)"]) == ("5,15%", 5.15, 5.85)
    # for people, in Indonesian (the CSV keeps the codes, for programs)
    assert miskin["Sumber polaritas"] == "dokumen: positif; dihitung negatif"
    assert miskin["Catatan"] == ("dinyatakan positif, mestinya negatif; berbeda dari yang dilaporkan; "
                                 "dilaporkan seolah makin tinggi makin baik")
    pmks = next(row for row in ws.iter_rows(min_row=2, values_only=True) if row[header.index("Indikator")] == "Persentase penanganan PMKS")
    assert pmks[header.index("Predikat")] is None  # 349 % is beyond the printed scale
    capaian_cell = ws.cell(2, header.index("Capaian") + 1)
    assert capaian_cell.data_type == "n" and capaian_cell.number_format == "0.00"
    rollup = list(wb["Rata-rata"].iter_rows(values_only=True))
    assert [row[1] for row in rollup[1:]] == ["tujuan", "s1-miskin", "s2-pmks", "s3-bencana", "s4-kepahlawanan", "s5-ikm", None]
    plan_row = rollup[-1]
    assert plan_row[2] == "plan" and (round(plan_row[5], 2), round(plan_row[6], 2), plan_row[4]) == (115.04, 99.77, 7)
    assert plan_row[11] == "ada indikator yang dibatasi"
    keuangan = list(wb["Keuangan"].iter_rows(values_only=True))
    assert keuangan[1][:8] == ("p-pemberdayaan", "program", "Program Pemberdayaan Sosial", None, "s1-miskin", 2_441_667_299,
                               2_415_289_232, pytest.approx(98.9196, abs=1e-4))
    assert keuangan[-1][:7] == (None, "plan", keuangan[-1][2], None, None, 17_860_799_466, 17_387_585_234)  # "" is an empty cell
    assert round(keuangan[-1][7], 2) == 97.35 and round(keuangan[-1][8], 2) == 99.77 and len(keuangan) == 8
    # beside each program, the capaian kinerja of the sasaran it serves (s1-miskin: 86,41 on the default scale)
    assert round(keuangan[1][9], 2) == 86.41 and keuangan[-1][9] is None
    assert client.get("/api/plans/kotim-dinsos-2025/capaian.xlsx").status_code == 200
    assert "Keuangan" not in load_workbook(io.BytesIO(client.get("/api/plans/kotim-dinsos-2025/capaian.xlsx").content)).sheetnames
    skala = list(wb["Skala"].iter_rows(values_only=True))
    assert skala[1] == ("Tidak berhasil", 0, "ya", 55, "tidak") and skala[4] == ("Sangat berhasil", 85, "tidak", 100, "ya")
    assert skala[-2][0].startswith("Skala: Dinas Sosial Kabupaten Buleleng, LKjIP 2023 (as printed)")
    assert wb["Skala"].auto_filter.ref == "A1:E5"  # the filter covers the table, not the notes below it
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/api/plans/nope/capaian.{fmt}").status_code == 404
        assert client.get(f"{BULELENG}/capaian.{fmt}", params={"scale": "x"}).json()["error"]["code"] == "bad_query"
    page = client.get("/plans/buleleng-dinsos-2023/capaian", params={"scale": "buleleng_lkjip_2023"}).text
    assert 'href="/api/plans/buleleng-dinsos-2023/capaian.xlsx?scale=buleleng_lkjip_2023" download' in page


@pytest.mark.unit
def test_csv_downloads_keep_formulas_from_running() -> None:
    assert [spreadsheet_text(v) for v in ("=1+2", "+62 812", "@SUM(A1)", "-x", "\tcmd", "-2", "-0,5", "+3.5", "Persentase", 7, None)] == [
        "'=1+2", "'+62 812", "'@SUM(A1)", "'-x", "'\tcmd", "-2", "-0,5", "+3.5", "Persentase", 7, None]
    report = CheckReport(plan="p", findings=[Finding(rule="r", severity="info", node_ids=["a"], message="=HYPERLINK(\"x\")")])
    assert to_csv(report, cell=spreadsheet_text).splitlines()[1] == 'p,r,info,a,"\'=HYPERLINK(""x"")"'
    assert to_csv(report).splitlines()[1] == 'p,r,info,a,"=HYPERLINK(""x"")"'  # the command line's CSV is data, as written


@pytest.mark.unit
def test_capaian_workbook_keeps_text_as_text_and_numbers_as_numbers() -> None:
    config = capaian.load_config()
    row = capaian.IndikatorCapaian(element_id="e", indikator_id="i", name="=HYPERLINK(\"x\")", year=2023,
                                   target=Nilai.parse("10"), realisasi=Nilai.parse("12"), polaritas="positif",
                                   polaritas_source="declared", capaian=120.0, formula="R / T x 100", reported=float("nan"))
    report = capaian.CapaianReport(plan="p", scale=config.scale, config=config.settings(), indikator=[row], elements=[])
    ws = load_workbook(io.BytesIO(capaian_xlsx(report, {"e": ("sasaran", "@cmd")}, config.active_scale)))["Capaian"]
    cells = {h.value: c for h, c in zip(ws[1], ws[2], strict=True)}
    assert cells["Indikator"].data_type == "s" and cells["Indikator"].value == '=HYPERLINK("x")'
    assert cells["Pernyataan"].data_type == "s" and cells["Capaian"].value == 120 and cells["Capaian"].data_type == "n"
    assert cells["Capaian dilaporkan"].value == "nan"  # never a silently empty number
