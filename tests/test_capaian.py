"""Capaian, predikat and roll-up (RULES.md §3, §7 checks 21-23 and 29, §8), on the worked example and the real 002 plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seed.loader import read_plans
from service.capaian import (
    CapaianConfig,
    CapaianConfigError,
    CapaianReport,
    ElementCapaian,
    IndikatorCapaian,
    PredikatScale,
    capaian,
    expected_polaritas,
    keuangan_groups,
    load_config,
    plan_capaian,
    predikat,
    scale_gaps,
    tree_from_document,
    unambitious_targets,
)
from service.models import Nilai, PlanDocument, PlanTree
from service.store import GraphStore

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"
BULELENG_2023 = SEED_DIR / "buleleng-dinsos-2023.yaml"


def n(raw: str) -> Nilai:
    return Nilai.parse(raw)


@pytest.fixture(scope="module")
def config() -> CapaianConfig:
    return load_config()


@pytest.fixture(scope="module")
def buleleng_tree() -> PlanTree:
    [(_, doc)] = read_plans([BULELENG_2023])
    return tree_from_document(doc)


def rows_by_id(report: CapaianReport) -> dict[str, IndikatorCapaian]:
    return {r.indikator_id: r for r in report.indikator}


def element(report: CapaianReport, element_id: str | None, year: int = 2023) -> ElementCapaian:
    [row] = [e for e in report.elements if e.element_id == element_id and e.year == year]
    return row


# ---- the worked example of RULES §3 ---------------------------------------------------------------------


@pytest.mark.unit
def test_worked_example_002(config: CapaianConfig) -> None:
    t, r = n("5,15%"), n("5,85%")
    pos = capaian(t, r, "positif")
    neg = capaian(t, r, "negatif")
    alt = capaian(t, r, "negatif", negatif_formula="t_over_r")
    assert pos.value == pytest.approx(113.59, abs=0.005)
    assert neg.value == pytest.approx(86.41, abs=0.005)
    assert alt.value == pytest.approx(88.03, abs=0.005)
    assert pos.formula == "R / T x 100"
    assert neg.formula == "(2T - R) / T x 100, floor 0"
    assert alt.formula == "T / R x 100"
    assert neg.expression == "(2 x 5.15 - 5.85) / 5.15 x 100 = 86.41"
    assert pos.flags == neg.flags == alt.flags == []
    assert predikat(neg.value, config.scales["permendagri86"]) == "Tinggi"
    # 002's own scale rates a missed target "Sangat berhasil": why it is unsuitable for "target not met".
    assert predikat(neg.value, config.scales["buleleng_lkjip_2023"]) == "Sangat berhasil"
    # As printed, 002's scale has no predikat at all for the 113.59 it reports.
    assert predikat(pos.value, config.scales["buleleng_lkjip_2023_printed"]) is None


@pytest.mark.unit
def test_missing_polaritas_is_taken_as_positif_and_flagged() -> None:
    v = capaian(n("80%"), n("84,61%"), None)
    assert v.value == pytest.approx(105.7625)
    assert v.polaritas == "positif"
    assert v.flags == ["polaritas_missing_assumed_positif"]


@pytest.mark.unit
def test_unknown_polaritas_or_formula_is_refused() -> None:
    with pytest.raises(ValueError, match="polaritas"):
        capaian(n("5"), n("5"), "lower")
    with pytest.raises(ValueError, match="negatif formula"):
        capaian(n("5"), n("5"), "negatif", negatif_formula="r_over_t")  # type: ignore[arg-type]


@pytest.mark.unit
def test_negatif_floors_at_zero() -> None:
    v = capaian(n("5"), n("12"), "negatif")
    assert v.value == 0.0
    assert "floored_at_zero" in v.flags
    assert capaian(n("5"), n("10"), "negatif").value == 0.0  # R = 2T: exactly 0, no floor needed
    assert capaian(n("5"), n("10"), "negatif").flags == []


@pytest.mark.unit
@pytest.mark.parametrize(("pol", "r", "expected", "formula_part"), [
    ("positif", "85", 100.0, "inside"),
    ("positif", "80", 100.0, "inside"),
    ("positif", "90", 100.0, "inside"),
    ("positif", "95", 95 / 90 * 100, "T = hi"),
    ("positif", "72", 72 / 80 * 100, "T = lo"),
    ("negatif", "95", (2 * 90 - 95) / 90 * 100, "T = hi"),
    ("negatif", "72", (2 * 80 - 72) / 80 * 100, "T = lo"),
    ("range", "95", (2 * 90 - 95) / 90 * 100, "T = hi"),  # stay inside: above the band is penalised
    ("range", "72", 72 / 80 * 100, "T = lo"),
])
def test_range_target(pol: str, r: str, expected: float, formula_part: str) -> None:
    target = n("80-90 %")
    assert (target.lo, target.hi, target.value) == (80, 90, None)
    v = capaian(target, n(r + "%"), pol)
    assert v.value == pytest.approx(expected)
    assert formula_part in (v.formula or "")
    assert "range_target" in v.flags


@pytest.mark.unit
def test_range_polaritas_with_a_single_target_is_a_band_of_one_point() -> None:
    assert capaian(n("10"), n("10"), "range").value == 100.0
    assert capaian(n("10"), n("8"), "range").value == pytest.approx(80.0)
    assert capaian(n("10"), n("12"), "range").value == pytest.approx(80.0)


@pytest.mark.unit
def test_target_zero() -> None:
    ok = capaian(n("0 kasus"), n("0 kasus"), "negatif")
    assert ok.value == 100.0 and "target_zero" in ok.flags
    missed = capaian(n("0 kasus"), n("3 kasus"), "negatif")
    assert missed.value == 0.0 and "target_zero_realisasi_above_zero" in missed.flags
    undefined = capaian(n("0"), n("3"), "positif")
    assert undefined.value is None
    assert "target_zero_positif_undefined" in undefined.flags
    assert "undefined" in (undefined.reason or "")
    # T / R with R = 0 is undefined too.
    alt = capaian(n("5"), n("0"), "negatif", negatif_formula="t_over_r")
    assert alt.value is None and "realisasi_zero_t_over_r_undefined" in alt.flags


@pytest.mark.unit
def test_missing_values_give_none_with_a_reason() -> None:
    no_real = capaian(n("5"), n("-"), "positif")
    assert no_real.value is None and no_real.flags == ["realisasi_missing"] and "realisasi" in (no_real.reason or "")
    no_target = capaian(n("-"), n("5"), "positif")
    assert no_target.value is None and no_target.flags == ["target_missing"]
    range_real = capaian(n("5"), n("4-6"), "positif")
    assert range_real.value is None and range_real.flags == ["realisasi_is_range"]


@pytest.mark.unit
def test_a_capaian_too_large_for_a_float_is_none_with_a_reason() -> None:
    tiny = "0," + "0" * 320 + "1"  # a finite target of 1e-321: R / T x 100 overflows
    for v in (capaian(n(tiny), n("100"), "positif"), capaian(n(f"{tiny}-{tiny}2"), n("100"), "positif"),
              capaian(n("5"), n(tiny), "negatif", "t_over_r")):
        assert v.value is None and v.flags[-1] == "capaian_not_finite" and "too large" in (v.reason or "")
    # (2T - R) / T overflows downwards and is floored at 0, as every capaian below 0 is
    assert capaian(n(tiny), n("100"), "negatif").value == 0.0


@pytest.mark.unit
def test_numbers_that_are_not_finite_are_refused_as_input() -> None:
    for raw in (float("inf"), float("nan"), "1" + "0" * 400):
        with pytest.raises(ValueError, match="finite|too large"):
            Nilai.parse(raw)


@pytest.mark.unit
def test_malformed_and_mismatched_values_are_flagged() -> None:
    v = capaian(n("12 Laporan"), n("10 Orang"), "positif")
    assert v.value == pytest.approx(83.333, abs=0.001)
    assert "unit_mismatch" in v.flags
    assert "unit_mismatch" not in capaian(n("100%"), n("100 %"), "positif").flags
    bad = capaian(n("13.2918.000"), n("13.291.800"), "positif")
    assert "target_not_wellformed" in bad.flags


# ---- scales ----------------------------------------------------------------------------------------------


@pytest.mark.unit
def test_permendagri86_scale(config: CapaianConfig) -> None:
    s = config.scales["permendagri86"]
    assert scale_gaps(s) == []
    cases = {0: "Sangat Rendah", 50: "Sangat Rendah", 50.4: "Sangat Rendah", 50.5: "Rendah", 65.49: "Rendah",
             65.5: "Sedang", 75.5: "Tinggi", 90: "Tinggi", 90.5: "Sangat Tinggi", 100: "Sangat Tinggi",
             349.12: "Sangat Tinggi"}
    for value, expected in cases.items():
        assert predikat(value, s) == expected, value
    assert predikat(None, s) is None
    assert s.top == "Sangat Tinggi"
    assert s.source and s.note


@pytest.mark.unit
@pytest.mark.parametrize(("t", "r", "value", "expected"), [
    ("6", "5,43", 90.5, "Sangat Tinggi"),  # 5.43 / 6 * 100 was 90.49999999999999: Tinggi
    ("18", "11,79", 65.5, "Sedang"), ("46", "34,73", 75.5, "Tinggi"),  # 65.49999999999999, 75.49999999999999
    ("1000", "505", 50.5, "Rendah"),
])
def test_capaian_on_a_scale_boundary_gets_the_predikat_of_the_boundary(config: CapaianConfig, t: str, r: str, value: float,
                                                                      expected: str) -> None:
    c = capaian(n(t), n(r), "positif", explain=False)
    assert c.value == value and predikat(c.value, config.scales["permendagri86"]) == expected


@pytest.mark.unit
def test_buleleng_scale_normalised_has_no_gaps(config: CapaianConfig) -> None:
    s = config.scales["buleleng_lkjip_2023"]
    assert scale_gaps(s) == []
    assert [predikat(v, s) for v in (54.99, 55, 70, 85, 113.59)] == [
        "Tidak berhasil", "Cukup berhasil", "Berhasil", "Sangat berhasil", "Sangat berhasil"]


@pytest.mark.unit
def test_buleleng_scale_as_printed_has_the_gaps_of_002(config: CapaianConfig) -> None:
    s = config.scales["buleleng_lkjip_2023_printed"]
    gaps = scale_gaps(s)
    assert len(gaps) == 4
    assert gaps[0].startswith("gap at exactly 55")
    assert gaps[1].startswith("gap at exactly 70")
    assert gaps[2].startswith("gap at exactly 85")
    assert gaps[3].startswith("gap above 100")
    assert [predikat(v, s) for v in (55, 70, 85, 100, 100.01, 54.9)] == [
        None, None, None, "Sangat berhasil", None, "Tidak berhasil"]


@pytest.mark.unit
def test_scale_gaps_finds_overlaps_and_missing_ends() -> None:
    s = PredikatScale(intervals=[
        {"predikat": "A", "lo": 10, "hi": 60, "hi_inclusive": True},
        {"predikat": "B", "lo": 60, "hi": 80},
        {"predikat": "C", "lo": 75, "hi": None},
    ])
    gaps = scale_gaps(s)
    assert gaps[0].startswith("gap below 10")
    assert gaps[1].startswith("overlap at exactly 60")
    assert gaps[2].startswith("overlap between 75 and 80")
    assert len(gaps) == 3


# ---- configuration ---------------------------------------------------------------------------------------


@pytest.mark.unit
def test_default_config(config: CapaianConfig) -> None:
    assert config.settings() == {
        "scale": "permendagri86", "negatif_formula": "2t_minus_r", "aggregate": "mean", "basis": "computed",
        "cap": 120.0, "realistic": [50.0, 120.0], "tolerance": 0.5,
    }
    assert set(config.scales) == {"permendagri86", "buleleng_lkjip_2023", "buleleng_lkjip_2023_printed"}


@pytest.mark.unit
def test_config_override(tmp_path: Path) -> None:
    f = tmp_path / "capaian.yaml"
    f.write_text(
        "default: {scale: mine, cap: null, negatif_formula: t_over_r}\n"
        "scales:\n  mine:\n    source: test\n    intervals:\n"
        "    - {predikat: Gagal, lo: 0, hi: 100}\n    - {predikat: Tercapai, lo: 100}\n",
        encoding="utf-8",
    )
    c = load_config(f)
    assert (c.scale, c.cap, c.negatif_formula, c.aggregate) == ("mine", None, "t_over_r", "mean")
    assert "permendagri86" in c.scales and c.active_scale.name == "mine"
    f.write_text("default: {scale: nowhere}\n", encoding="utf-8")
    with pytest.raises(CapaianConfigError, match="nowhere"):
        load_config(f)
    f.write_text("default: {aggregate: median}\n", encoding="utf-8")
    with pytest.raises(CapaianConfigError, match="aggregate"):
        load_config(f)


# ---- polarity expected from the wording ------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(("name", "statement", "expected"), [
    ("Persentase penduduk miskin", None, "negatif"),
    ("Tingkat Kemiskinan Penduduk", None, "negatif"),  # seed bontang-dspm-iku
    ("Angka Kematian Ibu", None, "negatif"),
    ("Jumlah kasus kekerasan terhadap anak", None, "negatif"),
    ("Prevalensi stunting", None, "negatif"),
    ("Tingkat Pengangguran Terbuka", None, "negatif"),
    ("Rata-rata waktu penyelesaian pengaduan", None, "negatif"),
    ("Jumlah laporan PMKS", "Menurunnya penduduk miskin", "negatif"),
    ("Persentase PMKS", "Berkurangnya jumlah PMKS", "negatif"),
    ("Persentase PMKS", "  turunnya jumlah PMKS", "negatif"),
    ("Persentase penanganan PMKS", "Meningkatnya penanganan PMKS", None),
    ("Persentase capaian IKM Dinas Sosial", None, None),
    ("Jumlah Fakir Miskin Cakupan Daerah Kabupaten/ Kota yang Didata", None, None),  # fakir miskin, not penduduk miskin
    # A measure of the reduction or handling itself: higher is better.
    ("Persentase penurunan angka kemiskinan", None, None),
    ("Persentase penurunan angka kemiskinan", "Menurunnya kemiskinan", None),
])
def test_expected_polaritas(name: str, statement: str | None, expected: str | None) -> None:
    assert expected_polaritas(name, statement) == expected


# ---- the real Buleleng 2023 plan (seed 002) --------------------------------------------------------------


@pytest.mark.unit
def test_tree_from_document_reads_like_the_store(buleleng_tree: PlanTree) -> None:
    t = buleleng_tree
    assert t.plan.id == "buleleng-dinsos-2023"
    assert t.plan.counts == {"tujuan": 1, "sasaran": 5, "program": 6, "kegiatan": 13, "sub_kegiatan": 38,
                             "indikator": 60, "jabatan": 2}
    assert t.plan.anggaran_total == 17_860_799_466  # the PK Perubahan total of the 6 programs
    by_id = {e.id: e for e in t.elements}
    assert by_id["s1-miskin"].parents == ["tujuan"]
    ind = by_id["s1-miskin"].indikator[0]
    assert (ind.id, ind.polaritas, ind.target[2023].value, ind.capaian[2023].raw) == ("penduduk-miskin", "positif", 5.15, "113,59")
    assert by_id["k-psks"].indikator[0].id == "i1"


@pytest.mark.unit
@pytest.mark.parametrize("formula", ["2t_minus_r", "t_over_r"])
def test_capaian_without_explanation_is_the_same_capaian(formula: str) -> None:
    """capaian(..., explain=False) (what capaian_rows and so the checks compute) differs only in leaving the
    expression out: every polaritas against point, range and zero targets, floored and undefined cases."""
    targets = ["5,15%", "0", "80-90", "12 kasus", "-", "70"]
    realisasi = ["5,85%", "0", "95", "3", "30 orang", "85", "-", "20", "12-14"]
    compared = 0
    for t in targets:
        for r in realisasi:
            for pol in ("positif", "negatif", "range", None):
                full = capaian(n(t), n(r), pol, formula)  # type: ignore[arg-type]
                lean = capaian(n(t), n(r), pol, formula, explain=False)  # type: ignore[arg-type]
                assert lean.expression is None
                assert (lean.value, lean.formula, lean.flags, lean.reason, lean.polaritas) == (
                    full.value, full.formula, full.flags, full.reason, full.polaritas)
                compared += full.expression is not None
    assert compared == 140  # 6 x 9 x 4 cases less those without a target or a single realisasi (5 x 2 x 4 + 36)


@pytest.mark.unit
def test_indikator_view_reads_values_json_as_json_loads_does() -> None:
    """IndikatorView.of parses with pydantic's JSON parser: the same values as json.loads, on what the
    loader can write (NaN and the infinities as JavaScript names, large integers, escapes, non-ASCII),
    keeping only the years with both a target and a realisasi."""
    from service.capaian import IndikatorView, NilaiView

    text = json.dumps({
        "target": {"2023": {"raw": "x", "value": float("nan")}, "2024": {"raw": "5,15 %", "value": 5.15, "lo": float("nan"), "unit": "%"},
                   "2025": {"raw": "1e400", "value": float("inf"), "lo": -float("inf"), "hi": 12345678901234567890}},
        "realisasi": {"2024": {"raw": "5,85 \"\u00e9\"\n", "value": 0.1 + 0.2, "wellformed": False},
                      "2025": {"raw": "-", "unit": "orang\u2013KK"}, "2026": {"raw": "7"}},
        "capaian": {"2024": {"raw": "113,59%", "value": 113.59}, "2023": {"raw": "1"}}})
    view = IndikatorView.of({"id": "i1", "name": "n", "values_json": text})
    loaded = json.loads(text)

    def as_loaded(part: str, year: str) -> NilaiView:
        return NilaiView(**loaded[part][year])

    assert set(view.target) == set(view.realisasi) == {2024, 2025} and set(view.capaian) == {2024}
    for year in (2024, 2025):
        for got, part in ((view.target, "target"), (view.realisasi, "realisasi")):
            assert repr(got[year]) == repr(as_loaded(part, str(year)))  # repr: NaN and -0.0 compare too
    assert repr(view.capaian[2024]) == repr(as_loaded("capaian", "2024"))
    assert type(view.target[2025].hi) is int and view.target[2025].hi == 12345678901234567890


@pytest.mark.unit
def test_rows_from_stored_values_equal_the_models(config: CapaianConfig) -> None:
    """The checks compute capaian from the stored indikator rows without pydantic (IndikatorView,
    capaian_rows): the same rows as the API's models, predikat aside."""
    from service.capaian import IndikatorView, capaian_rows, indikator_rows
    from service.loading import indikator_row

    # Buleleng 2023 (the one seed with realisasi) and every kind of value: ranges, malformed figures,
    # units that differ, no polaritas, negatif, a reported capaian, a realisasi with no target.
    made = PlanDocument.model_validate({
        "plan": {"id": "made", "pemda": "Kabupaten Demo", "perangkat_daerah": "Dinas Sosial", "tahun": 2024,
                 "kind": "pohon_kinerja"},
        "elements": [{"id": "s", "level": "sasaran", "statement": "Menurunnya angka kemiskinan", "indikator": [
            {"name": "Persentase penduduk miskin", "polaritas": "positif", "target": {2024: "5,15%", 2025: "5%"},
             "realisasi": {2024: "5,85%"}, "capaian": {2024: "113,59%"}},
            {"name": "Indeks kepuasan", "target": {2024: "80-90"}, "realisasi": {2024: "95"}},
            {"name": "Jumlah kasus", "polaritas": "negatif", "target": {2024: "12 kasus"}, "realisasi": {2024: "30 orang"}},
            {"name": "Pagu terserap", "target": {2024: "1.2345,6"}, "realisasi": {2024: "-"}},
            {"name": "Nilai SAKIP", "polaritas": "range", "target": {2024: "70"}, "realisasi": {2024: "65", 2025: "70"}},
        ]}],
    })
    compared = {}
    for _, doc in [*read_plans([BULELENG_2023]), (None, made)]:
        tree = tree_from_document(doc)
        compared[doc.plan.id] = 0
        for el, tree_el in zip(doc.elements, tree.elements, strict=True):
            models = indikator_rows(tree_el.id, tree_el.statement, tree_el.indikator, config)
            views = [IndikatorView.of(indikator_row(doc.plan.id, el, k, ind)) for k, ind in enumerate(el.indikator)]
            lean = capaian_rows(tree_el.id, tree_el.statement, views, config, with_predikat=False)
            assert len(lean) == len(models)
            for m, r in zip(models, lean, strict=True):
                got = {**r._asdict(), "target": r.target._asdict(), "realisasi": r.realisasi._asdict()}
                assert got == {**m.model_dump(), "predikat": None}
                compared[doc.plan.id] += 1
    assert compared == {"buleleng-dinsos-2023": 7, "made": 5}


@pytest.mark.unit
def test_buleleng_2023_indicators(buleleng_tree: PlanTree, config: CapaianConfig) -> None:
    report = plan_capaian(buleleng_tree, config)
    assert report.plan == "buleleng-dinsos-2023" and report.scale == "permendagri86"
    rows = rows_by_id(report)
    # Exactly the 7 PK indicators have target and realisasi (2023).
    assert list(rows) == ["penduduk-miskin", "penanganan-pmks", "laporan-pmks", "laporan-psks",
                          "korban-bencana-bansos", "cakupan-kepahlawanan", "ikm"]
    assert {r.year for r in report.indikator} == {2023}

    miskin = rows["penduduk-miskin"]
    # declared positif (the document applies R/T to everything), but poverty is lower-is-better:
    # pokin computes it negatif and flags the contradiction (RULES R3.4)
    assert (miskin.element_id, miskin.polaritas, miskin.polaritas_source, miskin.expected_polaritas) == (
        "s1-miskin", "negatif", "expected_over_declared", "negatif")
    assert miskin.target.raw == "5,15%" and miskin.realisasi.value == 5.85
    assert miskin.capaian == pytest.approx(86.41, abs=0.005)  # (2 x 5.15 - 5.85) / 5.15 x 100
    assert miskin.capaian_if_positif == pytest.approx(113.59, abs=0.005)  # what the document computed
    assert miskin.capaian_expected_polaritas == pytest.approx(86.41, abs=0.005)
    assert miskin.reported == 113.59
    assert miskin.difference == pytest.approx(27.18, abs=0.005)
    assert miskin.predikat == "Tinggi"
    assert "polaritas_declared_positif_expected_negatif" in miskin.flags
    assert "polaritas_undeclared" not in miskin.flags  # the document declares it (positif)
    assert "computed_as_if_higher_were_better" in miskin.flags
    assert "reported_differs" in miskin.flags

    pmks = rows["penanganan-pmks"]
    assert pmks.capaian == pytest.approx(349.13, abs=0.005)  # 23,95 / 6,86 x 100 = 349.1254
    assert pmks.reported == 349.12  # the document truncates; within tolerance
    assert pmks.difference == pytest.approx(-0.0054, abs=0.0001)
    assert "above_realistic_bounds" in pmks.flags and "reported_differs" not in pmks.flags
    assert pmks.expected_polaritas is None and pmks.capaian_expected_polaritas is None

    ikm = rows["ikm"]
    assert ikm.capaian == pytest.approx(105.76, abs=0.005) and ikm.reported == 105.76
    assert ikm.flags == ["over_achievement"]
    for i in ("laporan-pmks", "laporan-psks", "korban-bencana-bansos", "cakupan-kepahlawanan"):
        assert rows[i].capaian == 100.0 and rows[i].reported == 100.0 and rows[i].flags == []


@pytest.mark.unit
def test_buleleng_2023_reported_difference_is_caught_with_negatif(buleleng_tree: PlanTree) -> None:
    """Declared negatif, 002's reported 113.59 is 27 points off the computed 86.41 (RULES §7 check 22)."""
    tree = buleleng_tree.model_copy(deep=True)
    s1 = next(e for e in tree.elements if e.id == "s1-miskin")
    s1.indikator[0].polaritas = "negatif"
    miskin = rows_by_id(plan_capaian(tree, load_config()))["penduduk-miskin"]
    assert miskin.capaian == pytest.approx(86.41, abs=0.005)
    assert miskin.difference == pytest.approx(27.18, abs=0.005)
    assert miskin.predikat == "Tinggi"
    assert {"reported_differs", "computed_as_if_higher_were_better"} <= set(miskin.flags)
    assert "polaritas_declared_positif_expected_negatif" not in miskin.flags


@pytest.mark.unit
def test_buleleng_2023_pk_means_of_rules_section_3(buleleng_tree: PlanTree, config: CapaianConfig) -> None:
    """The mean of the 7 PK indicators: 138.35 reported, 134.47 with negatif poverty, 101.74 capped at 120."""
    flat = {"aggregate": "indicator_mean"}
    as_reported = element(plan_capaian(buleleng_tree, config.model_copy(update={**flat, "basis": "reported"})), None)
    assert as_reported.mean == pytest.approx(138.35, abs=0.005)  # 968.47 / 7, what 002 prints
    assert (as_reported.n, as_reported.below_100, as_reported.min, as_reported.max) == (7, 0, 100.0, 349.12)

    negatif = element(plan_capaian(buleleng_tree, config.model_copy(update={**flat, "basis": "expected_polaritas"})), None)
    assert negatif.mean == pytest.approx(134.47, abs=0.005)
    assert negatif.mean_capped == pytest.approx(101.74, abs=0.005)
    assert (negatif.n, negatif.below_100) == (7, 1)
    assert negatif.min == pytest.approx(86.41, abs=0.005)
    assert "cap_applied" in negatif.flags

    computed = element(plan_capaian(buleleng_tree, config.model_copy(update=flat)), None)
    assert computed.mean == pytest.approx(134.47, abs=0.005)  # computed = poverty negatif, never R/T


@pytest.mark.unit
def test_buleleng_2023_rollup_over_the_tree(buleleng_tree: PlanTree, config: CapaianConfig) -> None:
    """Default roll-up: sasaran = mean of its indicators, tujuan = mean of its sasaran (RULES §8.3)."""
    report = plan_capaian(buleleng_tree, config)
    assert [e.element_id for e in report.elements] == [
        "tujuan", "s1-miskin", "s2-pmks", "s3-bencana", "s4-kepahlawanan", "s5-ikm", None]
    s2 = element(report, "s2-pmks")
    assert s2.mean == pytest.approx(183.04, abs=0.005)  # the 183,04 the document reports for sasaran 2
    assert s2.mean_capped == pytest.approx(106.67, abs=0.005)  # (120 + 100 + 100) / 3
    assert (s2.n, s2.below_100, s2.level) == (3, 0, "sasaran")
    tujuan = element(report, "tujuan")
    assert tujuan.mean == pytest.approx(115.04, abs=0.005)  # (86.41 + 183.04 + 100 + 100 + 105.76) / 5
    assert tujuan.mean_capped == pytest.approx(99.77, abs=0.005)
    assert (tujuan.n, tujuan.level, tujuan.predikat) == (7, "tujuan", "Sangat Tinggi")
    plan = element(report, None)
    assert (plan.level, plan.mean, plan.n) == ("plan", tujuan.mean, 7)

    expected = plan_capaian(buleleng_tree, config.model_copy(update={"basis": "expected_polaritas"}))
    s1 = element(expected, "s1-miskin")
    assert s1.mean == pytest.approx(86.41, abs=0.005) and s1.below_100 == 1
    assert s1.predikat == "Tinggi"
    t = element(expected, "tujuan")
    assert t.mean == pytest.approx(115.04, abs=0.005)
    assert t.mean_capped == pytest.approx(99.77, abs=0.005)


@pytest.mark.unit
def test_top_predikat_while_every_indicator_misses_is_flagged(buleleng_tree: PlanTree, config: CapaianConfig) -> None:
    """RULES §8.3.4: on 002's scale, the negatif 86.41 of sasaran 1 is "Sangat berhasil" although the target was missed."""
    c = config.model_copy(update={"basis": "expected_polaritas", "scale": "buleleng_lkjip_2023"})
    s1 = element(plan_capaian(buleleng_tree, c), "s1-miskin")
    assert s1.predikat == "Sangat berhasil"
    assert s1.flags == ["top_predikat_while_every_indikator_below_100"]


@pytest.mark.unit
def test_report_json_keys_are_stable(buleleng_tree: PlanTree, config: CapaianConfig) -> None:
    data = json.loads(plan_capaian(buleleng_tree, config).model_dump_json())
    assert list(data) == ["plan", "scale", "config", "indikator", "elements", "keuangan", "tahun"]
    assert list(data["indikator"][0]) == [
        "element_id", "indikator_id", "name", "year", "target", "realisasi", "polaritas", "polaritas_source",
        "expected_polaritas", "capaian", "formula", "reason", "capaian_if_positif", "capaian_expected_polaritas",
        "reported", "difference", "predikat", "flags"]
    assert list(data["elements"][0]) == [
        "element_id", "level", "statement", "year", "mean", "mean_capped", "n", "below_100", "min", "max",
        "predikat", "flags"]
    assert list(data["keuangan"][0]) == [
        "element_id", "level", "statement", "code", "pagu", "realisasi", "capaian_keuangan", "capaian_kinerja",
        "sasaran", "flags"]


@pytest.mark.unit
def test_buleleng_2023_realisasi_anggaran_is_the_lkjip_table(buleleng_tree: PlanTree, config: CapaianConfig) -> None:
    """002's "B. Realisasi Anggaran" (lines 759-770): each program's capaian keuangan and the total as
    printed, the programs under the sasaran they support, next to that sasaran's capaian kinerja."""
    report = plan_capaian(buleleng_tree, config)
    printed = {"p-pemberdayaan": 98.92, "p-linjamsos": 97.53, "p-rehsos": 97.18, "p-bencana": 93.51, "p-tmp": 98.01,
               "p-penunjang": 96.92}
    assert {k.element_id: round(k.capaian_keuangan, 2) for k in report.keuangan[:-1]} == printed
    total = report.keuangan[-1]
    assert (total.element_id, total.level) == (None, "plan")
    assert (total.pagu, total.realisasi, round(total.capaian_keuangan, 2)) == (17_860_799_466, 17_387_585_234, 97.35)
    assert total.capaian_kinerja == element(report, None).mean_capped and round(total.capaian_kinerja, 2) == 99.77
    assert not any(k.flags for k in report.keuangan)
    assert [(sasaran, [k.element_id for k in rows]) for sasaran, rows in keuangan_groups(report.keuangan)] == [
        (["s1-miskin"], ["p-pemberdayaan", "p-linjamsos"]), (["s2-pmks"], ["p-rehsos"]), (["s3-bencana"], ["p-bencana"]),
        (["s4-kepahlawanan"], ["p-tmp"]), (["s5-ikm"], ["p-penunjang"])]
    assert all(k.capaian_kinerja is None for k in report.keuangan[:-1])  # the programs have no indikator of their own


@pytest.mark.unit
def test_realisasi_anggaran_counts_money_once_and_flags_what_cannot_be_right(config: CapaianConfig) -> None:
    doc = PlanDocument.model_validate({
        "plan": {"id": "t", "pemda": "X", "perangkat_daerah": "Y", "kind": "renstra", "tahun": 2024},
        "elements": [
            {"id": "s", "level": "sasaran", "statement": "Meningkatnya A"},
            {"id": "a", "level": "program", "statement": "Meningkatnya B", "parents": ["s"],
             "anggaran": {"raw": "100.000", "realisasi_raw": "90.000"}},
            {"id": "b", "level": "kegiatan", "statement": "Meningkatnya C", "parents": ["a"],
             "anggaran": {"raw": "60.000", "realisasi_raw": "70.000"}},
            {"id": "c", "level": "kegiatan", "statement": "Meningkatnya D", "parents": ["a"],
             "anggaran": {"realisasi_raw": "5.000"}},
            {"id": "d", "level": "program", "statement": "Meningkatnya E", "parents": ["s"],
             "anggaran": {"raw": "0", "realisasi_raw": "1.0000"}},
            {"id": "e", "level": "program", "statement": "Meningkatnya F", "anggaran": "50.000"},
        ],
    })
    rows = {k.element_id: k for k in plan_capaian(tree_from_document(doc), config).keuangan}
    assert list(rows) == ["a", "b", "c", "d", None]  # e has a pagu and no realisasi: not in the table
    assert (rows["a"].capaian_keuangan, rows["a"].flags, rows["a"].sasaran) == (90.0, [], ["s"])
    assert rows["b"].capaian_keuangan == pytest.approx(116.67, abs=0.01) and rows["b"].flags == ["realisasi_above_pagu"]
    assert (rows["c"].capaian_keuangan, rows["c"].flags) == (None, ["pagu_missing"])
    assert (rows["d"].capaian_keuangan, rows["d"].flags) == (None, ["anggaran_not_wellformed", "pagu_zero"])
    # b and c are inside a's figure: the total is a and d alone
    assert (rows[None].pagu, rows[None].realisasi, rows[None].capaian_keuangan) == (100_000.0, 100_000.0, 100.0)


@pytest.mark.unit
def test_rollup_follows_children_when_an_element_has_no_values_and_survives_shared_children(config: CapaianConfig) -> None:
    """An element without values of its own takes the mean of its children; a child under two parents counts once."""
    doc = PlanDocument.model_validate({
        "plan": {"id": "t", "pemda": "X", "perangkat_daerah": "Y", "kind": "renstra"},
        "elements": [
            {"id": "a", "level": "sasaran", "statement": "Meningkatnya A"},
            {"id": "b", "level": "program", "statement": "Meningkatnya B", "parents": ["a"],
             "indikator": [{"name": "Persentase B", "target": {2024: "50%"}, "realisasi": {2024: "40%"}}]},
            {"id": "c", "level": "program", "statement": "Meningkatnya C", "parents": ["a"]},
            {"id": "d", "level": "kegiatan", "statement": "Menurunnya D", "parents": ["b", "c"],
             "indikator": [{"name": "Rasio D", "target": {2024: "10"}, "realisasi": {2024: "8"}}]},
        ],
    })
    report = plan_capaian(tree_from_document(doc), config)
    d = next(r for r in report.indikator if r.element_id == "d")
    assert (d.element_id, d.polaritas, d.polaritas_source) == ("d", "negatif", "expected")
    assert d.capaian == pytest.approx(120.0) and "polaritas_undeclared" in d.flags
    b_row = next(r for r in report.indikator if r.element_id == "b")
    assert (b_row.polaritas, b_row.polaritas_source, b_row.capaian) == ("positif", "default", 80.0)
    assert element(report, "b", 2024).mean == pytest.approx(80.0)  # its own indicator, not its child's
    assert element(report, "c", 2024).mean == pytest.approx(120.0)  # no own values: its child d
    a = element(report, "a", 2024)
    assert a.mean == pytest.approx(100.0)  # (80 + 120) / 2
    assert (a.n, a.below_100, a.min, a.max) == (2, 1, 80.0, 120.0)  # d counted once


@pytest.mark.integration
def test_tree_from_document_equals_get_tree(seeded_store: GraphStore) -> None:
    """The store-free tree is the tree the store returns, for every seed plan."""
    from service.plans import get_tree

    for _, doc in read_plans([SEED_DIR]):
        stored = get_tree(seeded_store, doc.plan.id)
        assert stored.plan.loaded_at  # the one thing only the store knows: when this version was written
        stored.plan.loaded_at = None
        assert tree_from_document(doc) == stored, doc.plan.id


def _values(target: dict[int, str], realisasi: dict[int, str]) -> dict[str, dict[str, dict[str, object]]]:
    """Values as values_json stores them (years as text, each a Nilai's fields)."""
    return {"target": {str(y): n(v).model_dump() for y, v in target.items()},
            "realisasi": {str(y): n(v).model_dump() for y, v in realisasi.items()}}


@pytest.mark.unit
@pytest.mark.parametrize(("name", "declared", "target", "realisasi", "expected"), [
    ("Persentase PSKS aktif", "positif", {2024: "70%"}, {2023: "75%"}, [(2024, "70%", "75%", "positif")]),
    ("Persentase PSKS aktif", "positif", {2024: "75%"}, {2023: "75%"}, []),  # as much as reached: not below
    ("Persentase PSKS aktif", None, {2024: "70%", 2025: "80%"}, {2023: "75%", 2024: "78%"},
     [(2024, "70%", "75%", "positif")]),  # 2025 asks for more than 2024 reached
    ("Persentase penduduk miskin", "positif", {2024: "4,90%"}, {2023: "5,85%"}, []),  # lower is better: ambitious
    ("Persentase penduduk miskin", "negatif", {2024: "6%"}, {2023: "5,85%"}, [(2024, "6%", "5,85%", "negatif")]),
    ("Persentase PSKS aktif", "positif", {2024: "70-80%"}, {2023: "75%"}, []),  # a range target: not compared
    ("Jumlah PSKS aktif", "positif", {2024: "70 orang"}, {2023: "75 lembaga"}, []),  # another unit
    ("Jumlah PSKS aktif", "positif", {2024: "70 Orang"}, {2023: "75 orang"}, [(2024, "70 Orang", "75 orang", "positif")]),
    ("Persentase PSKS aktif", "positif", {2024: "-"}, {2023: "75%"}, []),  # no value
    ("Persentase PSKS aktif", "range", {2024: "70%"}, {2023: "75%"}, []),
    ("Persentase PSKS aktif", "positif", {2024: "70%"}, {2022: "75%"}, []),  # not the year before
])
def test_unambitious_targets(name: str, declared: str | None, target: dict[int, str], realisasi: dict[int, str],
                             expected: list[tuple[int, str, str, str]]) -> None:
    found = unambitious_targets(name, "Meningkatnya PSKS", declared, _values(target, realisasi))
    assert [(y, t.raw, r.raw, pol) for y, t, r, pol in found] == expected
