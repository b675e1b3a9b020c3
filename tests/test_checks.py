"""Every check rule flags a real problem of a real seed plan, and stays silent on a clean plan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from seed.loader import read_plans
from service.checks import RULES, load_config, plans_of_pemda, run_checks, run_checks_many, to_csv
from service.errors import NotFound
from service.loading import load_paths, plan_params
from service.store import GraphStore, open_store

from .conftest import ROOT, SEED_DIR, make_settings

pytestmark = pytest.mark.integration

CLEAN = ROOT / "tests" / "fixtures" / "clean-plan.yaml"


@pytest.fixture(scope="module")
def clean_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    s = open_store(make_settings(tmp_path_factory.mktemp("clean") / "data"))
    load_paths(s, [CLEAN])
    yield s
    s.close()


def findings(store: GraphStore, plan: str, rule: str, **config: object) -> list[tuple[list[str], str]]:
    cfg = load_config()
    cfg.update(config)
    return [(f.node_ids, f.message) for f in run_checks(store, plan, cfg, only=[rule]).findings]


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_is_silent_on_a_clean_plan(clean_store: GraphStore, rule: str) -> None:
    assert findings(clean_store, "clean-2025", rule) == []


def test_a_configured_severity_is_one_of_the_three(seeded_store: GraphStore) -> None:
    cfg = load_config()
    cfg["severity"] = {"orphan": "info"}
    assert {f.severity for f in run_checks(seeded_store, "buleleng-dinsos-2024", cfg, only=["orphan"]).findings} == {"info"}
    cfg["severity"] = {"orphan": "fatal"}
    with pytest.raises(ValueError, match="severity of rule 'orphan' must be error, warning or info, not 'fatal'"):
        run_checks(seeded_store, "buleleng-dinsos-2024", cfg, only=["orphan"])


def test_every_rule_has_both_languages_and_a_query() -> None:
    names = {p.stem for p in (ROOT / "cypher").glob("*.cypher")}
    for r in RULES.values():
        assert r.explain_id and r.explain_en and r.severity in ("error", "warning", "info")
        assert r.query in names


# ---- each rule on a real seed plan ---------------------------------------------------------------


def test_orphan_buleleng_2024_sasaran_without_a_tujuan(seeded_store: GraphStore) -> None:
    """Seed 000's table (lines 51-75) gives five sasaran strategis and no tujuan above them."""
    found = findings(seeded_store, "buleleng-dinsos-2024", "orphan")
    assert [ids for ids, _ in found] == [["s1-miskin"], ["s2-pmks"], ["s3-bencana"], ["s4-kepahlawanan"], ["s5-pelayanan-publik"]]


def test_no_parent_buleleng_2024_sasaran(seeded_store: GraphStore) -> None:
    found = findings(seeded_store, "buleleng-dinsos-2024", "no_parent")
    assert len(found) == 5 and all(m.startswith("sasaran has no parent: ") for _, m in found)


def test_scale_gaps_buleleng_2023_printed_scale(seeded_store: GraphStore, store: GraphStore, tmp_path: Path) -> None:
    """Seed 002 rates capaian on its own printed scale (lines 359-365), which leaves 55, 70, 85 and all
    above 100 without a predikat, yet rates 113,59 and 349,12 'sangat berhasil' (RULES §7 check 29)."""
    [(ids, message)] = findings(seeded_store, "buleleng-dinsos-2023", "scale_gaps")
    assert ids == [] and message.startswith("the document's predikat scale (Dinas Sosial Kabupaten Buleleng, LKjIP 2023 "
                                            "(as printed)) is not whole: gap at exactly 55: ")
    assert message.endswith("gap above 100: no predikat beyond 'Sangat berhasil' (85, 100]")
    doc = yaml.safe_load(CLEAN.read_text(encoding="utf-8"))
    for name, expected in (("buleleng_lkjip_2023", []), ("skala-kami", ["the plan names predikat scale 'skala-kami', "
                                                                          "which is not configured (known: permendagri86, "
                                                                          "buleleng_lkjip_2023, buleleng_lkjip_2023_printed)"])):
        doc["plan"]["predikat_scale"] = name
        (tmp_path / "clean.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        load_paths(store, [tmp_path / "clean.yaml"])
        assert [m for _, m in findings(store, "clean-2025", "scale_gaps")] == expected  # the normalised scale is whole


def test_what_a_document_does_not_give_is_skipped_and_said_once(seeded_store: GraphStore) -> None:
    """Bengkulu Selatan's diagram lost the lines from its sasaran to its 49 sub kegiatan, 33 of their
    statements and every target and anggaran (seed 001): they were 282 findings, 280 of them about the
    conversion (49 orphans, 49 without a parent, 49 unfunded, 49 without owner, 50 without target, 33
    statements, a dead end). Bontang's IKU table (seed 004) is not a cascade and gives no target."""
    bengsel = run_checks(seeded_store, "bengsel-dinsos-2024").findings
    assert sorted(f.rule for f in bengsel) == ["document_gap", "missing_indikator", "repeated_indikator"]
    [gap] = [f for f in bengsel if f.rule == "document_gap"]
    assert gap.severity == "info" and gap.node_ids == []
    assert gap.values["absent"] == {"below": 1, "jabatan": 49, "parents": 49, "statement": 33}
    assert gap.values["absent_everywhere"] == ["anggaran", "target"]  # the plan's own absent
    assert gap.values["skipped"] == ["condition_wording", "dead_end", "missing_target", "no_owner", "no_parent", "orphan",
                                     "owner_level", "unfunded_leaf"]
    bontang = run_checks(seeded_store, "bontang-dspm-iku").findings
    assert sorted(f.rule for f in bontang) == ["document_gap", "owner_level", "owner_level", "owner_level", "unit_mismatch"]
    [kind] = [f for f in bontang if f.rule == "document_gap"]
    assert kind.values["absent_everywhere"] == ["anggaran", "below", "parents", "target"]  # by its kind
    assert "parents of every element (not part of a document of kind iku)" in kind.message


def test_dead_end_kotim_renstra_sasaran(seeded_store: GraphStore) -> None:
    """Seed 003: the Renstra sasaran strategis 'Meningkatnya PMKS yang tertangani' has nothing below it."""
    assert findings(seeded_store, "kotim-dinsos-2025", "dead_end") == [
        (["sasaran-renstra"], "sasaran has nothing below it: Meningkatnya PMKS yang tertangani")]


def test_unfunded_leaf_kotim_pengamanan_tmp(seeded_store: GraphStore) -> None:
    """Seed 003: 'Terlaksananya pengamanan TMP' has an indicator but no sub kegiatan, no budget."""
    assert [ids for ids, _ in findings(seeded_store, "kotim-dinsos-2025", "unfunded_leaf")] == [["sk-pengamanan-tmp"]]


def test_cycle_on_kotim_written_by_other_means(store: GraphStore) -> None:
    """Loading refuses cycles; data written around the loader (here: Kotim plus one edge csf-1 -> p-bencana) is caught."""
    ((_, doc),) = read_plans([SEED_DIR / "kotim-dinsos-2025.yaml"])
    params = plan_params(doc)
    seq = {el.id: n for n, el in enumerate(doc.elements)}  # write_plan names edge ends by position
    params["edge_child"].append(seq["csf-1"])
    params["edge_parent"].append(seq["p-bencana"])
    params["crossrefs"] = []
    store.write("write_plan", **params)
    assert sorted(ids[0] for ids, _ in findings(store, "kotim-dinsos-2025", "cycle")) == ["csf-1", "p-bencana"]


def test_missing_indikator_kotim_kesiapsiagaan(seeded_store: GraphStore) -> None:
    assert [ids for ids, _ in findings(seeded_store, "kotim-dinsos-2025", "missing_indikator")] == [["k-kesiapsiagaan-bencana"]]


def test_missing_target_kotim(seeded_store: GraphStore) -> None:
    """Seed 003 gives targets in Tahap 5; ten indikator have none (Buleleng 2024's table has no target
    column at all: its plan says so, and the rule skips it)."""
    found = findings(seeded_store, "kotim-dinsos-2025", "missing_target")
    assert len(found) == 10 and all(m.startswith("indikator has no target: ") for _, m in found)
    assert findings(seeded_store, "buleleng-dinsos-2024", "missing_target") == []


def test_unit_mismatch_kotim_jumlah_with_percent(seeded_store: GraphStore) -> None:
    """Seed 003: kegiatan indikator named 'Jumlah ...' with targets in % (93,59 %, 95,50 %, 98 %, 100 %, 91 %)."""
    found = findings(seeded_store, "kotim-dinsos-2025", "unit_mismatch")
    assert len(found) == 13 and all(ids[0].startswith("k-") for ids, _ in found)
    assert (["k-kebutuhan-dasar-bencana"],
            "'Jumlah korban bencana alam dan sosial yang terpenuhi kebutuhannya' names a count but its unit is %") in found


def test_unit_mismatch_compares_configured_words_as_names_are_compared(store: GraphStore, tmp_path: Path) -> None:
    """Names and configured words are compared normalised (case, punctuation, spacing): 'Jml.' in the
    configuration matches 'Jml. PMKS ...', 'Jumlah: ...' starts with 'jumlah'; a configured word of
    several words must start the name whole ('angka partisipasi', not 'angka kematian')."""
    plan = {"plan": {"id": "unit-words", "pemda": "Kabupaten Uji", "perangkat_daerah": "Dinas Sosial",
                     "kind": "pohon_kinerja"},
            "elements": [{"id": "s1", "level": "sasaran", "statement": "Sasaran satu", "indikator": [
                {"name": "Jml. PMKS yang tertangani", "satuan": "%"},
                {"name": "Jumlah: penduduk miskin", "satuan": "%"},
                {"name": "Persentase-capaian layanan", "satuan": "orang"},
                {"name": "Angka  Partisipasi sekolah", "satuan": "orang"},
                {"name": "Angka kematian bayi", "satuan": "orang"},
                {"name": "Jml PMKS dengan satuan orang", "satuan": "orang"}]}]}
    path = tmp_path / "unit-words.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    load_paths(store, [path])
    got = findings(store, "unit-words", "unit_mismatch", count_words=["jumlah", "Jml."],
                   proportion_words=["persentase", "angka partisipasi"])
    assert [m for _, m in got] == [
        "'Angka  Partisipasi sekolah' names a proportion but its unit is orang",
        "'Jml. PMKS yang tertangani' names a count but its unit is %",
        "'Jumlah: penduduk miskin' names a count but its unit is %",
        "'Persentase-capaian layanan' names a proportion but its unit is orang",
    ]


def test_repeated_indikator_kotim_psks(seeded_store: GraphStore) -> None:
    """Seed 003: 'Persentase PSKS yang diberdayakan' on CSF II and on Program Pemberdayaan Sosial."""
    assert findings(seeded_store, "kotim-dinsos-2025", "repeated_indikator") == [
        (["p-psks-berdaya", "csf-2"], "program repeats its sasaran's indikator: Persentase PSKS yang diberdayakan")]


def test_compound_indikator_kotim_tujuan(seeded_store: GraphStore) -> None:
    found = findings(seeded_store, "kotim-dinsos-2025", "compound_indikator")
    assert [ids for ids, _ in found] == [["tujuan-distribusi"]]
    assert "Jumlah PMKS Yang Memperoleh Bantuan/Tertangani dan Jumlah PSKS" in found[0][1]


def test_output_indikator_buleleng_reports_counted_at_sasaran_and_program(seeded_store: GraphStore) -> None:
    """Seed 002 measures a sasaran, and the 2024 Renja four programs, by how many reports were made."""
    found = findings(seeded_store, "buleleng-dinsos-2023", "output_indikator")
    assert found == [
        (["s2-pmks"], "sasaran is measured by an output: Jumlah laporan Penanganan Penyandang Masalah Kesejahteraan "
                      "Sosial (PMKS) yang sesuai aturan yang berlaku"),
        (["s2-pmks"], "sasaran is measured by an output: Jumlah laporan Potensi Sumber Kesejahteraan Sosial (PSKS) yang aktif")]
    assert [ids for ids, _ in findings(seeded_store, "buleleng-dinsos-2024", "output_indikator")] == [
        ["p1-1-psks"], ["p1-2-linjamsos"], ["p3-1-bencana"], ["p4-1-kepahlawanan"]]
    # 'Jumlah PMKS ...' counts people served, an outcome: a count word alone is no output word
    assert findings(seeded_store, "kotim-dinsos-2025", "output_indikator") == []


def test_condition_wording_copied_names_and_missing_statements(seeded_store: GraphStore) -> None:
    """Kotim states one kegiatan by its nomenclature name; Buleleng 2023 leaves one kegiatan's statement empty."""
    # seed 002's RKT writes no statement for its programs (the seed holds their names there) or for one
    # kegiatan (its cell is empty): the rule judges the kegiatan, and leaves the programs' placeholders alone
    buleleng = findings(seeded_store, "buleleng-dinsos-2023", "condition_wording")
    assert buleleng == [(["k-penunjang-3"], "kegiatan has no statement in the document: (sasaran kegiatan tidak tertulis di dokumen)")]
    assert findings(seeded_store, "kotim-dinsos-2025", "condition_wording") == [
        (["k-kesiapsiagaan-bencana"], "kegiatan statement copies its nomenclature name: Penyelenggaraan Pemberdayaan "
                                      "Masyarakat Terhadap Kesiapsiagaan Bencana Kabupaten/ Kota")]
    assert findings(seeded_store, "bengsel-dinsos-2024", "condition_wording") == []  # 33 statements lost in the conversion
    assert findings(seeded_store, "kotim-pemda-2025", "condition_wording") == []  # tujuan are aims, not conditions


def test_condition_wording_reads_the_first_word_whatever_its_case(store: GraphStore, tmp_path: Path) -> None:
    text = CLEAN.read_text(encoding="utf-8")
    plan = tmp_path / "caps.yaml"
    plan.write_text(text.replace("statement: Meningkatnya pelayanan sosial PPKS", "statement: MENINGKATNYA PELAYANAN SOSIAL PPKS")
                        .replace("statement: Terpenuhinya kebutuhan permakanan", "statement:   Pemberian permakanan")
                        .replace("statement: Tersedianya pakaian dan kelengkapan lainnya", "statement: penyediaan  sandang"),
                    encoding="utf-8")
    load_paths(store, [plan])
    assert [m for _, m in findings(store, "clean-2025", "condition_wording")] == [
        "sub kegiatan statement is not worded as a condition reached (Meningkatnya ..., Terwujudnya ...): Pemberian permakanan "
        "sesuai standar gizi minimal",
        "sub kegiatan statement copies its nomenclature name: penyediaan  sandang"]  # its name, Penyediaan Sandang


def test_budget_rollup_kotim(seeded_store: GraphStore) -> None:
    """Seed 003: Rehabilitasi 2.01 subs 537.478.630 vs kegiatan 266.749.630; Kepegawaian 65.510.000 vs 165.510.000; ..."""
    report = run_checks(seeded_store, "kotim-dinsos-2025", only=["budget_rollup"])
    got = {f.node_ids[0]: (f.values["pagu"], f.values["children_sum"]) for f in report.findings}
    assert got == {
        "k-kebutuhan-dasar-bencana": (372_250_370, 349_150_370),  # Psikososial's 23.100.000 filed elsewhere
        "k-rehab-dasar": (266_749_630, 537_478_630),
        "k-kepegawaian": (65_510_000, 165_510_000),
        "p-psks-berdaya": (150_000_000, 100_000_000),
        "k-peningkatan-psks": (100_000_000, 150_000_000),
        "p-tmp": (32_400_000, 324_000_000),  # kegiatan written 32.400.0000
        "k-pemeliharaan-tmp": (324_000_000, 32_400_000),
        "k-umum": (667_292_466, 786_912_466),  # a sub kegiatan written 13.2918.000
    }
    # where a figure is malformed the sum is of guesses: no difference, the malformed figures named
    guessed = {f.node_ids[0]: (f.values["difference"], f.values["malformed"]) for f in report.findings if f.values["malformed"]}
    assert guessed == {"p-tmp": (None, ["k-pemeliharaan-tmp"]), "k-pemeliharaan-tmp": (None, ["k-pemeliharaan-tmp"]),
                       "k-umum": (None, ["sk-peralatan-rumah-tangga"])}
    tmp = next(f for f in report.findings if f.node_ids[0] == "k-pemeliharaan-tmp")
    assert tmp.message == ("kegiatan anggaran written '32.400.0000', malformed (read as Rp 324.000.000); its contributors "
                           "add up to Rp 32.400.000: correct the malformed figures, then check the roll-up again")
    rehab = next(f for f in report.findings if f.node_ids[0] == "k-rehab-dasar")
    assert rehab.message.endswith("(difference -Rp 270.729.000)")


def test_budget_rollup_lists_contributors_in_document_order_after_a_reload(store: GraphStore) -> None:
    """Reloading a plan reuses the engine's freed slots in another order: the contributors, collected in
    the engine's order, came out reversed, and a report diffed between two loads of the same document
    changed. They come in document order."""
    files = [SEED_DIR / "kotim-pemda-2025.yaml", SEED_DIR / "kotim-dinsos-2025.yaml"]
    expected = ["k-kebutuhan-dasar-bencana", "sk-penyediaan-makanan", "sk-penanganan-kelompok-rentan",
                "sk-penyediaan-sandang-bencana", "sk-tempat-penampungan"]
    for _ in range(2):
        load_paths(store, files)
        report = run_checks(store, "kotim-dinsos-2025", only=["budget_rollup"])
        assert next(f.node_ids for f in report.findings if f.node_ids[0] == expected[0]) == expected


def test_budget_rollup_compares_figures_of_one_budget_version(store: GraphStore, tmp_path: Path) -> None:
    """Seed 002 gives its programs' pagu after the perubahan (PK Perubahan) and its kegiatan's before it (RKT),
    told apart by anggaran.versi: the six programs differ from their kegiatan's sums by up to 5,2 milyar,
    and comparing them was six false errors. Without the versions they are compared."""
    load_paths(store, [SEED_DIR / "buleleng-dinsos-2023.yaml"])
    assert run_checks(store, "buleleng-dinsos-2023", only=["budget_rollup"]).findings == []
    text = (SEED_DIR / "buleleng-dinsos-2023.yaml").read_text(encoding="utf-8").replace("versi: perubahan, ", "")
    (tmp_path / "buleleng-dinsos-2023.yaml").write_text(text, encoding="utf-8")
    load_paths(store, [tmp_path / "buleleng-dinsos-2023.yaml"])
    found = run_checks(store, "buleleng-dinsos-2023", only=["budget_rollup"]).findings
    assert [f.node_ids[0] for f in found] == ["p-bencana", "p-linjamsos", "p-pemberdayaan", "p-penunjang", "p-rehsos", "p-tmp"]
    assert next(f for f in found if f.node_ids[0] == "p-rehsos").values["difference"] == 6_964_155_468 - 1_761_414_440


def test_malformed_rupiah_kotim(seeded_store: GraphStore) -> None:
    report = run_checks(seeded_store, "kotim-dinsos-2025", only=["malformed_rupiah"])
    assert sorted(f.values["raw"] for f in report.findings) == ["13.2918.000", "32.400.0000"]  # the value is in doubt


def test_rupiah_spacing_kotim(seeded_store: GraphStore) -> None:
    """Seed 003 lines 1072 and 1122: a stray space, the value plain (an error before, as a figure in doubt)."""
    report = run_checks(seeded_store, "kotim-dinsos-2025", only=["rupiah_spacing"])
    assert sorted((f.values["raw"], f.values["reads_as"], f.severity) for f in report.findings) == [
        ("23. 000.000", 23_000_000, "warning"), ("3.536.925. 665", 3_536_925_665, "warning")]


def test_code_parent_kotim_psikososial(seeded_store: GraphStore) -> None:
    """Seed 003 item 4: Pelayanan Dukungan Psikososial (1.06.06.2.01.0005) listed under Kesiapsiagaan Bencana (1.06.06.2.02)."""
    found = findings(seeded_store, "kotim-dinsos-2025", "code_parent")
    assert found == [(["sk-dukungan-psikososial", "k-kesiapsiagaan-bencana"],
                      "sub kegiatan 1.06.06.2.01.0005 Pelayanan Dukungan Psikososial is listed under kegiatan 1.06.06.2.02 "
                      "Penyelenggaraan Pemberdayaan Masyarakat Terhadap Kesiapsiagaan Bencana Kabupaten/ Kota "
                      "(codes resolved from the nomenclature names)")]


@pytest.mark.parametrize(("tahun", "flagged"), [(2025, False), (None, False), (2027, True)])
def test_code_parent_takes_the_placement_of_the_plans_budget_year(store: GraphStore, tmp_path: Path, tahun: int | None,
                                                                   flagged: bool) -> None:
    """Kotim 2025 files Fasilitasi Pembuatan NIK ... under kegiatan 1.06.04.2.01, as the 2022 list did
    (.0007, RULES §4.3); the 2027 list files the name under 1.06.04.2.02 (.0009). It was an error: for a
    plan before 2027 it is not, for a 2027 plan it still is."""
    kotim = yaml.safe_load((SEED_DIR / "kotim-dinsos-2025.yaml").read_text(encoding="utf-8"))
    keep = {"p-rehabilitasi", "k-rehab-dasar", "sk-fasilitasi-nik-akta"}
    plan = {"plan": {**kotim["plan"], "id": "nik", "tahun": tahun}, "jabatan": kotim["jabatan"],
            "elements": [{**e, "parents": [p for p in e.get("parents", []) if p in keep]}
                         for e in kotim["elements"] if e["id"] in keep]}
    if tahun is None:
        del plan["plan"]["tahun"]
    path = tmp_path / "nik.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_paths(store, [path])
    found = [f for f in run_checks(store, "nik", only=["code_parent"]).findings]
    assert [f.node_ids for f in found] == ([["sk-fasilitasi-nik-akta", "k-rehab-dasar"]] if flagged else [])
    if flagged:
        assert found[0].values["code"] == "1.06.04.2.02.0009" and found[0].values["parent_code"] == "1.06.04.2.01"


def test_nomenklatur_near_miss_kotim_typos(seeded_store: GraphStore) -> None:
    ids = {i[0] for i, _ in findings(seeded_store, "kotim-dinsos-2025", "nomenklatur_near_miss")}
    assert {"p-rehabilitasi", "k-umum"} <= ids  # "Proram Rehabilitasi Sosial", "Adminstrasi Umum Perangkat Daerah"


def _kotim_with(tmp_path: Path, element_id: str, nomenklatur: dict) -> Path:
    """Kotim as transcribed, with a code written on one element (the seeds give names only)."""
    data = yaml.safe_load((SEED_DIR / "kotim-dinsos-2025.yaml").read_text())
    for el in data["elements"]:
        if el["id"] == element_id:
            el["nomenklatur"] = nomenklatur
    path = tmp_path / "kotim.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def test_code_format_malformed_code(store: GraphStore, tmp_path: Path) -> None:
    """RULES §4.1: '1.06.04.02.01.0001' (level written as 02) is seen in public data."""
    load_paths(store, [SEED_DIR / "kotim-pemda-2025.yaml",
                       _kotim_with(tmp_path, "sk-penyediaan-permakanan", {"name": "Penyediaan Permakanan", "code": "1.06.04.02.01.0001"})])
    found = findings(store, "kotim-dinsos-2025", "code_format")
    assert [(ids, msg.split(":")[0]) for ids, msg in found] == [(["sk-penyediaan-permakanan"], "sub kegiatan code 1.06.04.02.01.0001")]


def test_nomenklatur_unknown_code_name_pair(store: GraphStore, tmp_path: Path) -> None:
    load_paths(store, [SEED_DIR / "kotim-pemda-2025.yaml",
                       _kotim_with(tmp_path, "p-bencana", {"name": "Program Penanganan Bencana", "code": "1.06.04"})])
    found = findings(store, "kotim-dinsos-2025", "nomenklatur_unknown")
    assert [ids for ids, _ in found] == [["p-bencana"]]
    assert "REHABILITASI SOSIAL" in found[0][1].upper()


def test_no_owner_kotim_sub_kegiatan(seeded_store: GraphStore) -> None:
    """Seed 003 item 7: the distribution to jabatan stops at kegiatan; no sub kegiatan has an owner."""
    ids = [i[0] for i, _ in findings(seeded_store, "kotim-dinsos-2025", "no_owner")]
    assert len(ids) == 51 and sum(1 for i in ids if i.startswith("sk-")) == 44


def test_owner_level_bontang(seeded_store: GraphStore) -> None:
    """Bontang's IKU names Sekretariat / Bidang (eselon III) as owners of sasaran strategis."""
    found = findings(seeded_store, "bontang-dspm-iku", "owner_level")
    assert len(found) == 3 and all("expected kepala daerah or kepala dinas" in m for _, m in found)


def test_capaian_wrong_polarity_buleleng_poverty(seeded_store: GraphStore) -> None:
    """Seed 002: 5,15 % target, 5,85 % realisasi, reported 113,59 (R/T) while lower is better: 86,41."""
    assert findings(seeded_store, "buleleng-dinsos-2023", "capaian_wrong_polarity") == [(
        ["s1-miskin"], "Persentase penduduk miskin 2023: target 5,15%, realisasi 5,85%, reported 113,59 % is "
                       "realisasi/target; lower is better here, so capaian is 86,41 %")]


def test_polaritas_mismatch_buleleng_poverty(seeded_store: GraphStore) -> None:
    assert [i for i, _ in findings(seeded_store, "buleleng-dinsos-2023", "polaritas_mismatch")] == [["s1-miskin"]]


def test_capaian_unrealistic_buleleng_pmks(seeded_store: GraphStore) -> None:
    """Seed 002: PMKS 6,86 % target, 23,95 % realisasi (cumulated with 2021): 349 %."""
    found = findings(seeded_store, "buleleng-dinsos-2023", "capaian_unrealistic")
    assert found == [(["s2-pmks"], "Persentase penanganan PMKS 2023: capaian 349,13 % is outside the realistic bounds")]


def test_capaian_reported_differs_with_a_tight_tolerance(seeded_store: GraphStore) -> None:
    """The document prints 349,12 for 23,95 / 6,86 = 349,1254: within 0.5 pp, but not a correct rounding to two
    decimals (off by more than 0.005), unlike 113,59 (113,592) and 105,76 (105,7625)."""
    assert findings(seeded_store, "buleleng-dinsos-2023", "capaian_reported_differs") == []
    found = findings(seeded_store, "buleleng-dinsos-2023", "capaian_reported_differs", capaian_tolerance=0.005)
    assert [i for i, _ in found] == [["s2-pmks"]]


def test_target_below_realisasi_buleleng_2024_targets(seeded_store: GraphStore) -> None:
    """Seed 002 sets its 2024 targets (BAB III A.3) below what 2023 reached for two positif indikator; the
    poverty rate's 4,90 % under 5,85 % is ambitious, since lower is better for it."""
    assert findings(seeded_store, "buleleng-dinsos-2023", "target_below_realisasi") == [
        (["s2-pmks"], "Persentase penanganan PMKS: target 2024 9,86% is below the realisasi 2023 23,95% "
                      "(positif: the target asks for less than was reached)"),
        (["s5-ikm"], "Persentase capaian IKM Dinas Sosial: target 2024 80 % is below the realisasi 2023 84,61% "
                     "(positif: the target asks for less than was reached)")]


# ---- output ------------------------------------------------------------------------------------


def test_json_and_csv_shapes(seeded_store: GraphStore) -> None:
    report = run_checks(seeded_store, "kotim-dinsos-2025")
    first = json.loads(report.findings[0].model_dump_json())
    assert list(first) == ["rule", "severity", "node_ids", "message", "values"]
    assert [f.severity for f in report.findings] == sorted((f.severity for f in report.findings),
                                                            key=lambda s: {"error": 0, "warning": 1, "info": 2}[s])
    lines = to_csv(report).splitlines()
    assert lines[0] == "plan,rule,severity,node_ids,message" and len(lines) == len(report.findings) + 1


# ---- several plans at once ------------------------------------------------------------------------


# findings per seed plan with the default configuration (rule by rule in the tests above)
SEED_FINDINGS = {"bengsel-dinsos-2024": 3, "bengsel-pemda-2024": 1, "bontang-dspm-iku": 5, "buleleng-dinsos-2023": 71,
                 "buleleng-dinsos-2024": 27, "kotim-dinsos-2025": 98, "kotim-pemda-2025": 1}
SEED_PLANS = ["bengsel-dinsos-2024", "bengsel-pemda-2024", "bontang-dspm-iku", "buleleng-dinsos-2023",
              "buleleng-dinsos-2024", "kotim-dinsos-2025", "kotim-pemda-2025"]


def test_checking_all_seed_plans_at_once_equals_one_by_one(seeded_store: GraphStore) -> None:
    """One query per rule over every plan gives each plan exactly the findings of checking it alone."""
    together = run_checks_many(seeded_store, SEED_PLANS)
    assert [r.plan for r in together] == SEED_PLANS
    for report in together:
        alone = run_checks(seeded_store, report.plan)
        assert [f.model_dump() for f in report.findings] == [f.model_dump() for f in alone.findings], report.plan
    assert {r.plan: len(r.findings) for r in together} == SEED_FINDINGS


def test_a_check_sends_each_rule_query_once_all_ahead(seeded_store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every query the rules read, those with configured parameters too, is sent once per check, all
    ahead in one read_many (the slowest to work through first), and nothing is read one by one."""
    from collections import Counter

    from service.checks import READ_FIRST

    sent: list[list[str]] = []
    single: list[str] = []
    read_many, read = seeded_store.read_many, seeded_store.read

    def many(requests: list[tuple[str, dict]]) -> object:
        sent.append([name for name, _ in requests])
        return read_many(requests)

    def one(name: str, **params: object) -> list[dict]:
        single.append(name)
        return read(name, **params)

    monkeypatch.setattr(seeded_store, "read_many", many)
    monkeypatch.setattr(seeded_store, "read", one)
    together = run_checks_many(seeded_store, SEED_PLANS)
    [names] = sent
    assert Counter(names) == Counter({r.query for r in RULES.values()} | {"check_nomenklatur_parents", "get_plans_exist"})
    assert names[0] == "list_absent"  # a small reply that six rules need before their own rows
    assert names[1:1 + len(READ_FIRST)] == list(READ_FIRST) and single == ["get_plans_exist"]
    assert names[-1] == "get_plans_exist"  # the versions after the rules: a plan replaced meanwhile is checked again
    assert {r.plan: len(r.findings) for r in together} == SEED_FINDINGS


def test_a_plan_replaced_while_it_is_checked_is_checked_again(store: GraphStore, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Each rule reads in a statement of its own: a plan replaced between two of them gave findings of
    two versions at once. The check reads the plans' versions before and after its rules and starts
    again when one changed; a plan that keeps changing is a 409 (Busy), never a mixed report. (The
    replace comes right after the first read of the versions here: where, among the rules' statements,
    the engine runs a concurrent write is up to its threads.)"""
    from service.errors import Busy

    load_paths(store, [CLEAN])
    doc = yaml.safe_load(CLEAN.read_text(encoding="utf-8"))
    for el in doc["elements"]:
        el.pop("indikator", None)  # the second version: every element without indikator
    bare = tmp_path / "clean-2025.yaml"
    bare.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    read = store.read
    versions_read = []

    def replace_after(versions: list[Path]) -> object:
        def patched(name: str, **params: object) -> list[dict]:
            rows = read(name, **params)
            if name == "get_plans_exist":
                versions_read.append(rows[0]["loaded_at"])
                if versions:
                    load_paths(store, [versions.pop(0)])
            return rows
        return patched

    monkeypatch.setattr(store, "read", replace_after([bare]))
    [report] = run_checks_many(store, ["clean-2025"])
    assert len(versions_read) == 2 and versions_read[0] != versions_read[1]  # started again once
    assert [f.rule for f in report.findings] == ["missing_indikator"] * len(doc["elements"])  # the second version, whole
    monkeypatch.setattr(store, "read", replace_after([CLEAN, bare, CLEAN]))
    with pytest.raises(Busy, match="replaced 3 times while they were checked"):
        run_checks_many(store, ["clean-2025"])


def test_rules_run_with_the_garbage_collector_paused(seeded_store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """A check pauses the cyclic collector (its ~150,000 containers made it run ~200 times per check)
    and turns it back on afterwards, also when a rule fails."""
    import dataclasses
    import gc

    from service import checks

    seen: list[bool] = []
    rule = RULES["orphan"]

    def watching(ctx: object, r: object) -> list:
        seen.append(gc.isenabled())
        return []

    def failing(ctx: object, r: object) -> list:
        raise RuntimeError("a rule failed")

    assert gc.isenabled()
    monkeypatch.setitem(checks.RULES, "orphan", dataclasses.replace(rule, run=watching))
    run_checks(seeded_store, "kotim-dinsos-2025", only=["orphan"])
    assert seen == [False] and gc.isenabled()
    monkeypatch.setitem(checks.RULES, "orphan", dataclasses.replace(rule, run=failing))
    with pytest.raises(RuntimeError, match="a rule failed"):
        run_checks(seeded_store, "kotim-dinsos-2025", only=["orphan"])
    assert gc.isenabled()


def test_gc_pauses_nest_and_leave_a_disabled_collector_disabled() -> None:
    import gc

    from service.checks import gc_paused

    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still runs
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_pemda_plans_and_unknown_plans(seeded_store: GraphStore) -> None:
    assert plans_of_pemda(seeded_store, "Kabupaten Kotawaringin Timur") == ["kotim-dinsos-2025", "kotim-pemda-2025"]
    with pytest.raises(NotFound, match="Kabupaten Atlantis"):
        plans_of_pemda(seeded_store, "Kabupaten Atlantis")
    with pytest.raises(NotFound, match="no-such-plan"):
        run_checks_many(seeded_store, ["kotim-dinsos-2025", "no-such-plan"])


# ---- codes certified at load ---------------------------------------------------------------------

UNDIAN = "Koordinasi dan Sinkronisasi Penyelenggaraan Undian Gratis Berhadiah dan Pengumpulan Uang atau Barang"
CODED = {
    "plan": {"id": "coded", "pemda": "Kabupaten Contoh", "perangkat_daerah": "Dinas Sosial", "tahun": 2025, "kind": "pohon_kinerja"},
    "elements": [
        {"id": "t", "level": "tujuan", "statement": "Meningkatnya kesejahteraan sosial"},
        {"id": "s", "level": "sasaran", "statement": "Meningkatnya keberdayaan sosial", "parents": ["t"]},
        {"id": "p", "level": "program", "statement": "Program", "parents": ["s"],
         "nomenklatur": {"code": "1.06.02", "name": "Program Pemberdayaan Sosial"}},
        {"id": "k1", "level": "kegiatan", "statement": "KAT", "parents": ["p"],
         "nomenklatur": {"code": "1.06.02.2.01", "name": "Pemberdayaan Sosial Komunitas Adat Terpencil (KAT)"}},
        {"id": "sk-exact", "level": "sub_kegiatan", "statement": "a", "parents": ["k1"],
         "nomenklatur": {"code": "1.06.02.2.01.0002", "name": "peningkatan kapasitas dan pendampingan KAT"}},
        {"id": "sk-typo", "level": "sub_kegiatan", "statement": "b", "parents": ["k1"],
         "nomenklatur": {"code": "1.06.02.2.01.0004", "name": "Fasilitasi Pemberdayan Sosial KAT yang terpadu dan berkelanjutan"}},
        {"id": "sk-misfiled", "level": "sub_kegiatan", "statement": "c", "parents": ["k1"],
         "nomenklatur": {"code": "1.06.02.2.02.0003", "name": UNDIAN}},
        {"id": "k2", "level": "kegiatan", "statement": "Sumbangan", "parents": ["p"],
         "nomenklatur": {"name": "Pengumpulan Sumbangan dalam Daerah Kabupaten/Kota"}},
        {"id": "sk-under-named", "level": "sub_kegiatan", "statement": "d", "parents": ["k2"],
         "nomenklatur": {"code": "1.06.02.2.02.0003", "name": UNDIAN}},
        {"id": "sk-wrong-name", "level": "sub_kegiatan", "statement": "e", "parents": ["k1"],
         "nomenklatur": {"code": "1.06.02.2.01.0005", "name": "Penyaluran Bantuan Sosial"}},
    ],
}
CODE_RULES = ["code_format", "code_parent", "nomenklatur_unknown", "nomenklatur_near_miss"]


@pytest.fixture
def coded_store(store: GraphStore, tmp_path: Path) -> GraphStore:
    path = tmp_path / "coded.yaml"
    path.write_text(yaml.safe_dump(CODED, allow_unicode=True, sort_keys=False))
    load_paths(store, [path])
    return store


def _code_findings(store: GraphStore, **config: object) -> list[dict]:
    cfg = load_config()
    cfg.update(config)
    return [f.model_dump() for f in run_checks(store, "coded", cfg, only=CODE_RULES).findings]


def test_the_code_rules_skip_certified_codes_and_find_the_same(coded_store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader certifies the exact, well-filed codes (p, k1, sk-exact: a case difference is still
    exact); the code rules read only the others, and find what they find reading every code."""
    from service import nomenklatur

    version, bidang = nomenklatur.reference_version(), {"bidang_prefix": "1.06."}
    read = sorted(r["id"] for r in coded_store.read("check_nomenklatur_facts", plan_ids=["coded"], code_ok=version, **bidang))
    assert read == ["k2", "sk-misfiled", "sk-typo", "sk-under-named", "sk-wrong-name"]
    certified = _code_findings(coded_store)
    assert sorted((f["rule"], tuple(f["node_ids"])) for f in certified) == [
        ("code_parent", ("sk-misfiled", "k1")),
        ("nomenklatur_near_miss", ("sk-typo",)),
        ("nomenklatur_unknown", ("sk-wrong-name",)),
    ]
    # a certificate of another version of the list counts for nothing: every code is read again
    monkeypatch.setattr(nomenklatur, "reference_version", lambda: 1)
    assert len(coded_store.read("check_nomenklatur_facts", plan_ids=["coded"], code_ok=1, **bidang)) == 8
    assert _code_findings(coded_store) == certified


def test_certificates_count_only_in_the_bidang_checked(coded_store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked as bidang 1.05, the 1.06 codes are unknown there, certified or not."""
    from service import nomenklatur

    as_105 = _code_findings(coded_store, bidang="1.05")
    assert sum(f["rule"] == "nomenklatur_unknown" for f in as_105) == 8
    monkeypatch.setattr(nomenklatur, "reference_version", lambda: 1)
    assert _code_findings(coded_store, bidang="1.05") == as_105
