"""Trace and what-if impact on the real Kotim cascade; the same through the API and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.alignment import trace
from service.errors import NotFound, QueryError
from service.impact import impact
from service.main import create_app
from service.store import GraphStore

from .conftest import make_settings
from .test_cli import pokin

pytestmark = pytest.mark.integration

KOTIM = "kotim-dinsos-2025"


def test_trace_reaches_the_tujuan_and_crosses_into_the_kepala_daerah_plan(seeded_store: GraphStore) -> None:
    t = trace(seeded_store, KOTIM, "sk-dukungan-psikososial")
    assert [[s.id for s in p] for p in t.paths] == [
        ["sk-dukungan-psikososial", "k-kesiapsiagaan-bencana", "p-bencana", "csf-1", "tujuan"],
        ["sk-dukungan-psikososial", "k-kesiapsiagaan-bencana", "p-bencana", "csf-1", "tujuan-distribusi", "sasaran-pmks",
         "tujuan-rpjmd"],
    ]
    assert t.paths[1][-1].plan == "kotim-pemda-2025"
    step = t.paths[0][0]
    assert step.indikator == [{"name": "Jumlah Orang Yang Mendapatkan Dukungan Psikososial Kewenangan Kabupaten/ Kota",
                               "satuan": "Orang", "target": {2025: "20 Orang"}}]
    assert t.subtree == [] and t.reaches == ["tujuan"]


def test_trace_orders_paths_of_one_length_to_one_tujuan_by_the_way_they_go(store: GraphStore, tmp_path: Path) -> None:
    """Two paths of the same length to the same tujuan came in the engine's order, which a reload changes."""
    import yaml

    from service.loading import load_paths

    plan = {
        "plan": {"id": "two", "pemda": "Kabupaten Contoh", "perangkat_daerah": "Dinas Sosial", "tahun": 2025, "kind": "pohon_kinerja"},
        "elements": [
            {"id": "t", "level": "tujuan", "statement": "Tujuan"},
            {"id": "s2", "level": "sasaran", "statement": "Sasaran 2", "parents": ["t"]},
            {"id": "s1", "level": "sasaran", "statement": "Sasaran 1", "parents": ["t"]},
            {"id": "p", "level": "program", "statement": "Program", "parents": ["s2", "s1"]},
        ],
    }
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False))
    for _ in range(3):
        load_paths(store, [path])
        assert [[s.id for s in p] for p in trace(store, "two", "p").paths] == [["p", "s1", "t"], ["p", "s2", "t"]]


def test_trace_subtree_of_a_program(seeded_store: GraphStore) -> None:
    t = trace(seeded_store, KOTIM, "p-bencana")
    assert sorted(s.id for s in t.subtree) == sorted([
        "k-kebutuhan-dasar-bencana", "k-kesiapsiagaan-bencana", "sk-dukungan-psikososial", "sk-penanganan-kelompok-rentan",
        "sk-penyediaan-makanan", "sk-penyediaan-sandang-bencana", "sk-tempat-penampungan"])


def test_trace_of_an_orphan_reaches_no_tujuan(seeded_store: GraphStore) -> None:
    t = trace(seeded_store, "bengsel-dinsos-2024", "sk-fm-1")
    assert [[s.id for s in p] for p in t.paths] == [["sk-fm-1"]] and t.reaches == ["sub_kegiatan"]


def test_trace_unknown_element(seeded_store: GraphStore) -> None:
    with pytest.raises(NotFound, match="plan 'kotim-dinsos-2025' has no element 'nope'"):
        trace(seeded_store, KOTIM, "nope")


def test_cutting_pemberdayaan_and_tmp_leaves_csf_ii_without_support(seeded_store: GraphStore) -> None:
    r = impact(seeded_store, KOTIM, ["p-psks-berdaya", "p-tmp"])
    assert r.removed.counts == {"tujuan": 0, "sasaran": 0, "program": 2, "kegiatan": 2, "sub_kegiatan": 3}
    assert r.removed.anggaran == 182_400_000  # 150.000.000 + 32.400.000, the programs' pagu as written
    assert [(u.id, u.lost, u.remaining) for u in r.unsupported] == [("csf-2", ["p-psks-berdaya", "p-tmp"], [])]
    assert [(a.id, a.lost, a.remaining) for a in r.affected] == [
        ("tujuan", ["csf-2"], ["csf-1", "csf-3"]), ("tujuan-distribusi", ["csf-2"], ["csf-1", "csf-3"])]
    assert r.indikator_unsupported == [{"element": "csf-2", "indikator": "Persentase PSKS yang diberdayakan", "id": "i1"}]
    jab = {j["id"]: j for j in r.jabatan_affected}
    assert jab["kadis"]["unsupported"] == ["csf-2"] and sorted(jab["pk-eselon-3"]["removed"]) == ["p-psks-berdaya", "p-tmp"]
    budgets = {s["id"]: (s["before"], s["after"]) for s in r.sasaran_anggaran}
    assert budgets["csf-2"] == (182_400_000, 0) and budgets["csf-1"] == (802_000_000, 802_000_000)


def test_cutting_a_kegiatan_moves_its_own_pagu(seeded_store: GraphStore) -> None:
    r = impact(seeded_store, KOTIM, ["k-rehab-pmks-lainnya"])
    assert r.removed.counts["sub_kegiatan"] == 2 and r.removed.anggaran == 40_000_000
    assert [(a.id, a.remaining) for a in r.affected] == [("p-rehabilitasi", ["k-rehab-dasar"])]
    budgets = {s["id"]: (s["before"], s["after"]) for s in r.sasaran_anggaran}
    assert budgets["csf-1"] == (802_000_000, 762_000_000)


def test_a_cut_never_takes_more_from_a_sasaran_than_the_figure_it_counted(seeded_store: GraphStore) -> None:
    """Kotim's kegiatan under p-tmp is written '32.400.0000' (324 M) under a program of 32.400.000; seed
    002's TMP kegiatan is 1.642.480.861 (RKT) under a program of 1.241.782.921 (PK Perubahan). Cutting
    the kegiatan took its whole pagu out of the sasaran: -400.697.940 left for Buleleng's s4."""
    r = impact(seeded_store, KOTIM, ["k-pemeliharaan-tmp"])
    assert r.removed.anggaran == 324_000_000  # the kegiatan's own figure, as read
    assert r.removed.malformed == [{"id": "k-pemeliharaan-tmp", "raw": "32.400.0000", "pagu": 324_000_000}]  # ... a guess
    [csf2] = [s for s in r.sasaran_anggaran if s["moved"]]
    assert (csf2["id"], csf2["before"], csf2["after"], csf2["moved"]) == ("csf-2", 182_400_000, 150_000_000, 32_400_000)
    assert csf2["exceeds"] == [{"id": "p-tmp", "pagu": 32_400_000, "removed_below": 324_000_000}]
    b = impact(seeded_store, "buleleng-dinsos-2023", ["k-tmp"])
    [s4] = [s for s in b.sasaran_anggaran if s["moved"]]
    assert (s4["id"], s4["before"], s4["after"], s4["moved"]) == ("s4-kepahlawanan", 1_241_782_921, 0, 1_241_782_921)
    assert s4["exceeds"] == [{"id": "p-tmp", "pagu": 1_241_782_921, "removed_below": 1_642_480_861}]
    for plan in ("buleleng-dinsos-2023", KOTIM):  # every single cut of both plans
        for e in seeded_store.read("get_plan_tree", plan_id=plan):
            for s in impact(seeded_store, plan, [e["element"]["id"]]).sasaran_anggaran:
                assert 0 <= s["moved"] <= s["before"] and s["after"] == s["before"] - s["moved"], (plan, e["element"]["id"], s)
    assert "exceeds" not in next(s for s in impact(seeded_store, KOTIM, ["k-rehab-pmks-lainnya"]).sasaran_anggaran
                                 if s["id"] == "csf-1")


def test_impact_lists_what_loses_support_in_document_order_after_a_reload(store: GraphStore, tmp_path: Path) -> None:
    """A reload reuses the engine's freed slots in another order; the indikator left without support
    are listed in the order the document gives them, on the first load and after a reload."""
    import yaml

    from service.loading import load_paths

    plan = {
        "plan": {"id": "order", "pemda": "Kabupaten Contoh", "perangkat_daerah": "Dinas Sosial", "tahun": 2025, "kind": "pohon_kinerja"},
        "elements": [
            {"id": "t", "level": "tujuan", "statement": "Tujuan"},
            {"id": "s", "level": "sasaran", "statement": "Sasaran", "parents": ["t"],
             "indikator": [{"name": f"Indikator {n}"} for n in "ABCD"]},
            {"id": "p", "level": "program", "statement": "Program", "parents": ["s"]},
        ],
    }
    path = tmp_path / "order.yaml"
    path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False))
    for _ in range(3):
        load_paths(store, [path])
        result = impact(store, "order", ["p"])
        assert [i["indikator"] for i in result.indikator_unsupported if i["element"] == "s"] == [
            "Indikator A", "Indikator B", "Indikator C", "Indikator D"]


def test_elements_of_other_plans_keep_document_order_after_a_reload(store: GraphStore, tmp_path: Path) -> None:
    """What a plan's diagram shows of the plans above it (service.plans.get_plan_graph): their parents
    by id and their indikator in document order, on the first load and after reloads."""
    import yaml

    from service.loading import load_paths
    from service.plans import get_plan_graph

    meta = {"pemda": "Kabupaten Contoh", "tahun": 2025, "kind": "pohon_kinerja"}
    above = {"plan": {"id": "above", "perangkat_daerah": "Bupati", **meta}, "elements": [
        {"id": "t1", "level": "tujuan", "statement": "Tujuan 1"},
        {"id": "t2", "level": "tujuan", "statement": "Tujuan 2"},
        {"id": "s", "level": "sasaran", "statement": "Sasaran", "parents": ["t2", "t1"],
         "indikator": [{"name": f"Indikator {n}"} for n in "DCBA"]},
    ]}
    below = {"plan": {"id": "below", "perangkat_daerah": "Dinas Sosial", **meta}, "elements": [
        {"id": "t", "level": "tujuan", "statement": "Tujuan dinas", "parents": ["above/s"]},
    ]}
    paths = []
    for doc in (above, below):
        paths.append(tmp_path / f"{doc['plan']['id']}.yaml")
        paths[-1].write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    for _ in range(3):
        load_paths(store, paths)
        s = next(x for x in get_plan_graph(store, "below").external if x.id == "s")
        assert s.indikator == ["Indikator D", "Indikator C", "Indikator B", "Indikator A"]
        assert s.parents == ["above/t1", "above/t2"]


def test_cut_needs_an_element(seeded_store: GraphStore) -> None:
    with pytest.raises(QueryError):
        impact(seeded_store, KOTIM, [])
    with pytest.raises(NotFound, match="plan 'kotim-dinsos-2025' has no element 'p-nope'"):
        impact(seeded_store, KOTIM, ["p-bencana", "p-nope"])
    # an unknown plan is named as one, as tree, check and capaian name it (it was "plan 'nope' has no element 'x'")
    with pytest.raises(NotFound, match="^no plan 'nope' is loaded$"):
        impact(seeded_store, "nope", ["x"])
    with pytest.raises(NotFound, match="^no plan 'nope' is loaded$"):
        trace(seeded_store, "nope", "tujuan")
    with pytest.raises(NotFound, match="^no plan 'nope' is loaded$"):
        trace(seeded_store, KOTIM, "nope/tujuan")
    # another plan's element: only where it reaches this plan (it was Buleleng's whole budget, 'removed' from Kotim)
    with pytest.raises(QueryError, match="buleleng-dinsos-2023/tujuan is not in plan 'kotim-dinsos-2025' and no element"):
        impact(seeded_store, KOTIM, ["buleleng-dinsos-2023/tujuan"])
    above = impact(seeded_store, KOTIM, ["kotim-pemda-2025/sasaran-pmks"])  # the pemda's sasaran above the dinas
    assert [r["id"] for r in above.removed.elements] == ["tujuan-distribusi", "kotim-pemda-2025/sasaran-pmks"]
    below = impact(seeded_store, "kotim-pemda-2025", ["kotim-dinsos-2025/tujuan-distribusi"])
    assert [u.id for u in below.unsupported] == ["tujuan-rpjmd", "sasaran-pmks"]


@pytest.fixture()
def client(seeded_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(seeded_dir))) as c:
        yield c


def test_api_trace_impact_checks_capaian(client: TestClient) -> None:
    t = client.get(f"/api/plans/{KOTIM}/nodes/sk-karang-taruna/trace").json()
    assert [s["id"] for s in t["paths"][0]] == ["sk-karang-taruna", "k-peningkatan-psks", "p-psks-berdaya", "csf-2", "tujuan"]
    i = client.get(f"/api/plans/{KOTIM}/impact", params=[("cut", "p-psks-berdaya"), ("cut", "p-tmp")]).json()
    assert set(i) >= {"removed", "affected", "unsupported", "indikator_unsupported", "jabatan_affected"}
    assert i["removed"]["counts"]["program"] == 2 and i["unsupported"][0]["id"] == "csf-2"
    c = client.get(f"/api/plans/{KOTIM}/checks").json()
    assert c["plan"] == KOTIM and {"rule", "severity", "node_ids", "message", "values"} == set(c["findings"][0])
    assert {f["rule"] for f in c["findings"]} >= {"budget_rollup", "malformed_rupiah", "code_parent", "dead_end"}
    cap = client.get("/api/plans/buleleng-dinsos-2023/capaian").json()
    miskin = next(r for r in cap["indikator"] if r["name"] == "Persentase penduduk miskin")
    assert (round(miskin["capaian"], 2), miskin["reported"], miskin["predikat"]) == (86.41, 113.59, "Tinggi")
    lk = client.get("/api/plans/buleleng-dinsos-2023/capaian", params={"scale": "buleleng_lkjip_2023"}).json()
    assert next(r for r in lk["indikator"] if r["name"] == "Persentase penduduk miskin")["predikat"] == "Sangat berhasil"
    assert client.get(f"/api/plans/{KOTIM}/impact").status_code == 422
    assert client.get("/api/plans/buleleng-dinsos-2023/capaian", params={"scale": "x"}).json()["error"]["code"] == "bad_query"
    tr = client.get("/api/plans/buleleng-dinsos-2023/capaian", params={"negatif_formula": "t_over_r"}).json()
    assert round(next(r for r in tr["indikator"] if r["name"] == "Persentase penduduk miskin")["capaian"], 2) == 88.03
    assert tr["config"]["negatif_formula"] == "t_over_r"
    unchosen = client.get("/api/plans/buleleng-dinsos-2023/capaian?scale=&negatif_formula=")  # a form's empty values
    assert unchosen.status_code == 200 and unchosen.json() == client.get("/api/plans/buleleng-dinsos-2023/capaian").json()
    bad = client.get("/api/plans/buleleng-dinsos-2023/capaian", params={"negatif_formula": "r_over_t"}).json()["error"]
    assert bad["code"] == "bad_query" and "known: 2t_minus_r, t_over_r" in bad["message"]
    # a rule filter naming no rule was an empty report, as if the plan were clean; an empty one is ignored
    for path, params in ((f"/api/plans/{KOTIM}/checks", {}), (f"/api/plans/{KOTIM}/checks.csv", {}),
                         (f"/api/plans/{KOTIM}/checks.xlsx", {}), ("/api/checks", {"pemda": "Kabupaten Kotawaringin Timur"})):
        typo = client.get(path, params={**params, "rule": "ORPHAN"})
        assert typo.status_code == 400 and typo.json()["error"]["message"].startswith("no rule 'ORPHAN'; known: orphan"), path
    assert client.get(f"/api/plans/{KOTIM}/checks?rule=").json() == c
    # the LKjIP's realisasi anggaran, from the store (the figures are the document's, see test_capaian)
    total = cap["keuangan"][-1]
    assert (total["element_id"], total["pagu"], total["realisasi"], round(total["capaian_keuangan"], 2)) == (
        None, 17_860_799_466, 17_387_585_234, 97.35)
    assert [(k["element_id"], k["sasaran"]) for k in cap["keuangan"][:2]] == [("p-pemberdayaan", ["s1-miskin"]),
                                                                                ("p-linjamsos", ["s1-miskin"])]
    assert client.get(f"/api/plans/{KOTIM}/capaian").json()["keuangan"] == []  # no realisasi anggaran yet


def test_checks_do_not_run_the_engine_connections_out(client: TestClient) -> None:
    """Each check pipelines its queries on a connection of its own. Made by the client's pool, they were
    counted until its limit (100) and the 98th check answered 500, and every one after it."""
    first = client.get("/api/plans/bontang-dspm-iku/checks").json()
    for _ in range(110):
        r = client.get("/api/plans/bontang-dspm-iku/checks")
        assert r.status_code == 200, r.text
    assert r.json() == first


def test_capaian_page_names_every_flag() -> None:
    """Every flag service.capaian can set has words on the page (an unknown one would show its raw name)."""
    import inspect

    from service import capaian
    from service.capaian import FLAG_WORDS

    source = inspect.getsource(capaian)
    raised = set(re.findall(r'flags\.append\("(\w+)"\)', source)) | set(re.findall(r'none\([^\n]*, "(\w+)"\)', source))
    assert {"reported_differs", "target_missing", "cap_applied", "top_predikat_while_every_indikator_below_100"} <= raised
    assert raised - set(FLAG_WORDS) == set()


def test_impact_page_names_what_it_lists_and_links_across_plans(client: TestClient) -> None:
    page = client.get(f"/plans/{KOTIM}/impact", params={"cut": "tujuan-distribusi"}).text
    text = " ".join(page.split())
    # the pemda's sasaran loses its only contributor: named and linked in its own plan
    assert ('<a href="/plans/kotim-pemda-2025?node=sasaran-pmks">Menguatnya Penanganan Terhadap Penyandang Masalah '
            'Kesejahteraan Sosial (PMKS)</a> — kehilangan <a href="/plans/kotim-dinsos-2025?node=tujuan-distribusi">'
            'Meningkatkan Pelayanan Kepada PMKS') in text
    assert '<a href="/plans/kotim-pemda-2025/jabatan/bupati">Bupati (PK Kepala Daerah)</a>' in page
    # every element linked exists (a node page answers for any id: its JSON twin does not), and so does every jabatan
    nodes = set(re.findall(r'href="/plans/([\w.-]+)\?node=([\w.-]+)"', page))
    assert nodes == {(KOTIM, "tujuan-distribusi"), ("kotim-pemda-2025", "sasaran-pmks"), ("kotim-pemda-2025", "tujuan-rpjmd")}
    assert all(client.get(f"/api/plans/{p}/nodes/{n}").status_code == 200 for p, n in nodes)
    assert all(client.get(x).status_code == 200 for x in set(re.findall(r'href="(/plans/[\w.-]+/jabatan/[\w.-]+)"', page)))
    # from the pemda's side: the dinas elements it takes along are named too, not "plan/id"
    pemda = client.get("/plans/kotim-pemda-2025/impact", params={"cut": "sasaran-pmks"}).text
    assert ('kinerjanya terhapus: <a href="/plans/kotim-dinsos-2025?node=tujuan-distribusi">Meningkatkan Pelayanan '
            'Kepada PMKS') in " ".join(pemda.split())
    assert not re.search(r'>[\w.-]+/[\w.-]+</a>', pemda)
    two = " ".join(client.get(f"/plans/{KOTIM}/impact", params=[("cut", "p-psks-berdaya"), ("cut", "p-tmp")]).text.split())
    assert ('kinerjanya terhapus: <a href="/plans/kotim-dinsos-2025?node=p-psks-berdaya">Program Pemberdayaan Sosial</a>; '
            '<a href="/plans/kotim-dinsos-2025?node=p-tmp">Program Pengelolaan Taman Makam Pahlawan</a>') in two
    odd = " ".join(client.get(f"/plans/{KOTIM}/impact", params={"cut": "k-pemeliharaan-tmp"}).text.split())
    assert ('<a href="/plans/kotim-dinsos-2025?node=p-tmp">Program Pengelolaan Taman Makam Pahlawan</a> tercatat '
            'Rp 32.400.000, lebih kecil dari Rp 324.000.000 yang terpotong di bawahnya') in odd


def test_what_if_page_offers_every_element_and_keeps_every_cut(client: TestClient) -> None:
    """It offered programs and what is below them only: nothing to pick in Bengkulu Selatan's pohon kinerja
    (sasaran and 49 sub kegiatan), and a tujuan cut from its element page was dropped by the next submit.
    An unknown id was ignored without a word, and the removed elements' breakdown left out tujuan and sasaran."""
    bengsel = client.get("/plans/bengsel-dinsos-2024/impact").text
    assert bengsel.count('name="cut"') == 51  # its tujuan, its sasaran and 49 sub kegiatan
    page = " ".join(client.get(f"/plans/{KOTIM}/impact", params=[("cut", "tujuan"), ("cut", "tujuan-distribusi"),
                                                                ("cut", "zzz")]).text.split())
    assert '<input type="checkbox" name="cut" value="tujuan" checked>' in page
    assert "tidak ikut dihitung: zzz" in page
    assert "2 tujuan, 3 sasaran, 7 program, 14 kegiatan, 44 sub kegiatan" in page  # 70 removed, each counted


def test_checks_page_names_an_element_on_hovering_its_id(client: TestClient) -> None:
    page = client.get(f"/plans/{KOTIM}/checks").text
    assert ('<a href="/plans/kotim-dinsos-2025?node=k-peningkatan-psks" title="Terwujudnya Peningkatan Kemampuan PSKS '
            '(Pengembangan Potensi Sumber Kesejahteraan Sosial Daerah Kabupaten/Kota)">k-peningkatan-psks</a>') in page
    pemda = client.get("/pemda/Kabupaten Kotawaringin Timur/checks").text  # both plans' elements, each under its plan
    assert 'href="/plans/kotim-dinsos-2025?node=k-peningkatan-psks" title="Terwujudnya Peningkatan Kemampuan PSKS' in pemda
    # the pemda's own plan has only what its quoted excerpt does not give (no element to name)
    assert '<a href="/plans/kotim-pemda-2025/checks">kotim-pemda-2025</a>: the document does not give: ' in pemda


def test_plan_page_says_when_the_element_asked_for_is_not_in_the_plan(client: TestClient) -> None:
    stale = client.get(f"/plans/{KOTIM}", params={"node": "k-lama"})
    assert stale.status_code == 404 and "Rencana ini tidak punya elemen “k-lama”." in stale.text
    assert 'data-id="p-tmp"' in stale.text  # the plan itself is still there to pick from
    assert client.get(f"/plans/{KOTIM}", params={"node": "p-tmp"}).status_code == 200


def test_numbers_on_the_pages_are_written_the_indonesian_way() -> None:
    from service.values import format_number

    assert [format_number(v) for v in (1234.5, -1234.5, 0.5, 100, -0.001)] == ["1.234,50", "-1.234,50", "0,50", "100,00", "0,00"]
    assert [format_number(v, trim=True) for v in (90.5, 50.0, 1_000_000, 12.25)] == ["90,5", "50", "1.000.000", "12,25"]


def test_capaian_page_years_tree_order_and_escaping(tmp_path: Path) -> None:
    from service.loading import load_paths
    from service.store import open_store

    data = tmp_path / "data"
    s = open_store(make_settings(data))
    try:
        load_paths(s, [Path(__file__).parent / "fixtures" / "capaian-years.yaml"])
    finally:
        s.close()
    with TestClient(create_app(make_settings(data))) as c:
        html = c.get("/plans/capaian-years-2023/capaian").text
    assert re.findall(r"<h2>Tahun (\d+)</h2>", html) == ["2021", "2022", "2023"]
    y2021, y2022, y2023 = (html.split(f"<h2>Tahun {y}</h2>")[1].split("<h2>")[0] for y in (2021, 2022, 2023))
    assert "Tidak ada capaian yang dapat dihitung tahun ini" in y2021 and "realisasi berupa rentang" in y2021
    # the roll-up follows the tree: each sasaran under its tujuan, the program under its sasaran
    rollup = y2023.split("<h3>Per indikator</h3>")[0]
    assert re.findall(r'node=([\w-]+)"', rollup) == ["t-a", "s-a1", "s-a2", "t-b", "s-b1", "p-b1"]
    # to look at: the two rows outside the realistic bounds; not "melampaui target" or "polaritas tidak dinyatakan"
    assert re.search(r"Perlu diperiksa</span><b>2</b>", y2023) and re.search(r"Perlu diperiksa</span><b>2</b>", y2022)
    assert "1.234,50 %" in y2023 and "0,50 %" in y2023 and "selisih 30 poin" in y2022  # reported 80 against 50
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html and "<i>x</i>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_capaian_page(client: TestClient) -> None:
    page = client.get("/plans/buleleng-dinsos-2023/capaian")
    assert page.status_code == 200 and "Capaian kinerja" in page.text
    assert "60 indikator, 7 bertarget, 7 dengan realisasi" in page.text
    text = " ".join(page.text.split())
    # the plan's roll-up: each indikator capped at 120 before the mean, then its predikat
    assert "99,77 %" in text and "tanpa batas: 115,04 %" in text and "<b>Sangat Tinggi</b>" in text
    assert "113,59 %" in text and "selisih 27,18 poin" in text  # reported against recomputed 86,41 %
    for label in ("dinyatakan positif, mestinya negatif", "berbeda dari yang dilaporkan",
                  "dilaporkan seolah makin tinggi makin baik", "di atas batas wajar"):
        assert label in text, label
    assert 'href="/api/plans/buleleng-dinsos-2023/capaian"' in page.text  # its JSON twin
    printed = client.get("/plans/buleleng-dinsos-2023/capaian",
                         params={"scale": "buleleng_lkjip_2023_printed", "negatif_formula": "t_over_r"})
    text = " ".join(printed.text.split())
    assert "88,03 %" in text and "Skala ini tidak utuh" in text and "gap above 100" in text
    assert "di luar skala" in text  # 105,76 % has no predikat on the printed scale
    assert "/api/plans/buleleng-dinsos-2023/capaian?scale=buleleng_lkjip_2023_printed&amp;negatif_formula=t_over_r" in printed.text
    unchosen = client.get("/plans/buleleng-dinsos-2023/capaian?scale=&negatif_formula=")
    assert unchosen.status_code == 200 and "99,77 %" in unchosen.text
    # the realisasi anggaran table: each program under its sasaran (with the sasaran's capaian kinerja), the total
    keuangan = " ".join(page.text.split("id=\"keuangan\"")[1].split("Cara menghitung")[0].split())
    assert "Realisasi anggaran 2023" in keuangan
    assert re.search(r"Menurunnya penduduk miskin</a></td><td></td><td></td><td></td><td class=\"num\">86,41 %", keuangan)
    assert re.search(r"Program Pemberdayaan Sosial</a>.*?2\.441\.667\.299</td><td class=\"num\">2\.415\.289\.232</td>"
                     r"<td class=\"num\">98,92 %", keuangan)
    assert re.search(r"Jumlah</th>.*?17\.860\.799\.466.*?17\.387\.585\.234.*?97,35 %.*?99,77 %", keuangan)
    empty = client.get(f"/plans/{KOTIM}/capaian")
    assert empty.status_code == 200 and "Belum ada capaian untuk dihitung" in empty.text
    assert 'id="keuangan"' not in empty.text and "Unduh XLSX" not in empty.text
    wrong = client.get(f"/plans/{KOTIM}/capaian", params={"scale": "nope"})
    assert wrong.status_code == 400 and "known: buleleng_lkjip_2023" in wrong.text
    assert client.get("/plans/nope/capaian").status_code == 404
    # an element's page marks a reported capaian only where it differs beyond the configured tolerance
    miskin = client.get("/plans/buleleng-dinsos-2023/nodes/s1-miskin", params={"fragment": True}).text
    assert "dilaporkan 113,59 %" in miskin
    assert "(dokumen: positif; dihitung negatif)" in miskin  # the polaritas the capaian beside it was computed with
    pmks = client.get("/plans/buleleng-dinsos-2023/nodes/s2-pmks", params={"fragment": True}).text
    assert "349,13 %" in pmks and "dilaporkan 349,12 %" not in pmks  # 0,01 apart: the same figure, rounded


def test_cli_check_exit_codes_and_formats(seeded_dir: Path) -> None:
    out = pokin(seeded_dir, "check", KOTIM, "--format", "json", "--fail-on", "error")
    assert out.returncode == 1, out.stderr
    body = json.loads(out.stdout)
    assert body["plan"] == KOTIM and len(body["findings"]) > 50
    ok = pokin(seeded_dir, "check", "buleleng-dinsos-2024", "--rule", "budget_rollup", "--fail-on", "warning")
    assert ok.returncode == 0 and "0 error(s), 0 warning(s)" in ok.stdout
    warn = pokin(seeded_dir, "check", "buleleng-dinsos-2024", "--fail-on", "warning", "--format", "csv")
    assert warn.returncode == 1 and warn.stdout.startswith("plan,rule,severity,node_ids,message")
    # an unknown rule is asked wrongly (2), not a plan with findings (1), nor a clean plan
    typo = pokin(seeded_dir, "check", "buleleng-dinsos-2024", "--rule", "budget_rolup", "--fail-on", "error")
    assert typo.returncode == 2 and "no rule 'budget_rolup'; known: orphan, no_parent" in typo.stderr


def test_cli_trace_impact_capaian(seeded_dir: Path) -> None:
    out = pokin(seeded_dir, "impact", KOTIM, "--cut", "p-psks-berdaya", "--cut", "p-tmp", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["removed"]["anggaran"] == 182_400_000
    odd = pokin(seeded_dir, "impact", KOTIM, "--cut", "k-pemeliharaan-tmp")
    assert odd.stdout.splitlines()[0] == ("cut k-pemeliharaan-tmp: removes 1 kegiatan, 2 sub kegiatan, 3 indikator; anggaran "
                                          "Rp 324.000.000 (includes k-pemeliharaan-tmp written '32.400.0000', malformed)")
    top = pokin(seeded_dir, "impact", KOTIM, "--cut", "tujuan")  # every level it removes, tujuan and sasaran too
    assert top.stdout.splitlines()[0] == "cut tujuan: removes 1 tujuan, 1 indikator; anggaran Rp 0"
    below = pokin(seeded_dir, "trace", KOTIM, "p-tmp").stdout
    assert "  kegiatan: Terpeliharanya Taman Makam Pahlawan  [written '32.400.0000', malformed]" in below.splitlines()
    t = pokin(seeded_dir, "trace", KOTIM, "sk-pengamanan-tmp")
    assert t.returncode == 0 and "tujuan: Meningkatnya Kesejahteraan Pemerlu Pelayanan Kesejahteraan Sosial (PPKS)" in t.stdout
    c = pokin(seeded_dir, "capaian", "buleleng-dinsos-2023", "--format", "json")
    assert c.returncode == 0 and json.loads(c.stdout)["scale"] == "permendagri86"
    tr = pokin(seeded_dir, "capaian", "buleleng-dinsos-2023", "--negatif-formula", "t_over_r")
    miskin = next(ln for ln in tr.stdout.splitlines() if "penduduk miskin" in ln)
    assert tr.returncode == 0 and re.search(r" negatif +88,03 +113,59  Tinggi ", miskin), miskin
    lines = tr.stdout.splitlines()
    table = lines[lines.index(next(ln for ln in lines if ln.startswith("realisasi anggaran"))) + 2:]
    assert re.fullmatch(r"sasaran +88,03  Menurunnya penduduk miskin", table[0]), table[0]  # T / R, as chosen
    assert re.fullmatch(r"program +2\.441\.667\.299 +2\.415\.289\.232 +98,92 +-  Program Pemberdayaan Sosial", table[1])
    assert re.match(r"plan +17\.860\.799\.466 +17\.387\.585\.234 +97,35 +100,09  Laporan Kinerja", table[-1]), table[-1]
    assert len(table) == 12  # 5 sasaran, 6 programs, the total
    none = pokin(seeded_dir, "capaian", KOTIM)  # a plan before its LKjIP: targets, no realisasi yet
    assert none.returncode == 0 and none.stdout.strip() == (
        f"no capaian yet: no indikator of {KOTIM} has a target and a realisasi for the same year "
        "(80 indikator, 70 with a target, 0 with a realisasi)")
    bad = pokin(seeded_dir, "capaian", "buleleng-dinsos-2023", "--negatif-formula", "r_over_t")
    assert bad.returncode == 2 and "unknown negatif formula 'r_over_t'; known: 2t_minus_r, t_over_r" in bad.stderr


def test_api_checks_a_whole_pemda(client: TestClient) -> None:
    body = client.get("/api/checks", params={"pemda": "Kabupaten Kotawaringin Timur"}).json()
    assert [r["plan"] for r in body["reports"]] == [KOTIM, "kotim-pemda-2025"]
    alone = client.get(f"/api/plans/{KOTIM}/checks").json()
    assert body["reports"][0]["findings"] == alone["findings"]
    assert sum(body["counts"].values()) == sum(len(r["findings"]) for r in body["reports"])
    assert body["reports"][0]["counts"] == {k: sum(f["severity"] == k for f in alone["findings"]) for k in ("error", "warning", "info")}
    assert [r["id"] for r in body["rules"]] == [r["id"] for r in alone["rules"]]
    both = client.get("/api/checks", params=[("plan", KOTIM), ("plan", "bontang-dspm-iku")]).json()
    assert [r["plan"] for r in both["reports"]] == [KOTIM, "bontang-dspm-iku"]
    assert client.get("/api/checks").json()["error"]["code"] == "bad_query"
    assert client.get("/api/checks", params={"pemda": "Kabupaten Atlantis"}).status_code == 404
    # a pemda as a person types it: another case or spacing is the same pemda; a typo gets the nearest names
    typed = client.get("/api/checks", params={"pemda": "kabupaten  BULELENG"}).json()
    assert [r["plan"] for r in typed["reports"]] == ["buleleng-dinsos-2023", "buleleng-dinsos-2024"]
    typo = client.get("/api/checks", params={"pemda": "Kabupaten Bulelen"})
    assert typo.status_code == 404 and "did you mean: Kabupaten Buleleng, " in typo.json()["error"]["message"]
    assert client.get("/api/plans", params={"q": "\x00"}).json() == client.get("/api/plans", params={"q": ""}).json()


def test_cli_checks_a_whole_pemda(seeded_dir: Path) -> None:
    out = pokin(seeded_dir, "check", "--pemda", "Kabupaten Buleleng", "--format", "json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["pemda"] == "Kabupaten Buleleng"
    assert [r["plan"] for r in body["reports"]] == ["buleleng-dinsos-2023", "buleleng-dinsos-2024"]
    alone = json.loads(pokin(seeded_dir, "check", "buleleng-dinsos-2024", "--format", "json").stdout)
    assert body["reports"][1] == alone
    table = pokin(seeded_dir, "check", "buleleng-dinsos-2023", "bontang-dspm-iku")
    assert "bontang-dspm-iku: s1-akuntabilitas" in table.stdout and table.stdout.rstrip().endswith("info")
    assert pokin(seeded_dir, "check").returncode == 2
