"""The check report as CSV and Excel downloads, on the real Kotim cascade."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from service.api.routes.exports import to_xlsx
from service.checks import CheckReport, Finding, RuleInfo
from service.main import create_app

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
