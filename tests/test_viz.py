"""Diagrams: the DOT source of the real Kotim cascade, and real rendered files."""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.checks import run_checks
from service.impact import impact
from service.main import create_app
from service.plans import PlanGraph, get_plan_graph
from service.store import GraphStore
from viz.diagrams import GraphvizMissing, Overlay, build_distribusi, build_jabatan, build_pohon, render

from .conftest import make_settings
from .test_cli import pokin

pytestmark = pytest.mark.integration
K = "kotim-dinsos-2025"


@pytest.fixture(scope="module")
def kotim(seeded_dir: Path) -> Iterator[PlanGraph]:
    from service.store import open_store

    s = open_store(make_settings(seeded_dir))
    try:
        yield get_plan_graph(s, K)
    finally:
        s.close()


def node_line(src: str, node: str) -> str:
    (line,) = [ln for ln in src.splitlines() if ln.strip().startswith(f'"{node}" [')]
    return line


def edges(src: str) -> set[tuple[str, str]]:
    return set(re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', src, re.M))


def test_pohon_has_every_element_and_the_cascade(kotim: PlanGraph) -> None:
    src = build_pohon(kotim).source
    nodes = set(re.findall(r'^\s*"(kotim-[^"]+)" \[', src, re.M))
    assert {f"{K}/{e.id}" for e in kotim.tree.elements} <= nodes
    assert {"kotim-pemda-2025/sasaran-pmks", "kotim-pemda-2025/tujuan-rpjmd"} <= nodes  # the Kepala Daerah's plan above
    e = edges(src)
    assert (f"{K}/csf-1", f"{K}/p-bencana") in e and (f"{K}/p-bencana", f"{K}/k-kesiapsiagaan-bencana") in e
    # crosscutting: csf-1's second parent is the distribution table's tujuan, drawn dashed and coloured
    cross = [ln for ln in src.splitlines() if f'"{K}/tujuan-distribusi" -> "{K}/csf-1"' in ln]
    assert cross and "dashed" in cross[0] and "#7B3FA0" in cross[0]
    assert '"kotim-pemda-2025/sasaran-pmks" -> "kotim-dinsos-2025/tujuan-distribusi"' in src


def test_pohon_labels_say_indikator_target_and_rupiah(kotim: PlanGraph) -> None:
    src = build_pohon(kotim).source
    assert "Rp 5.328.418.993" in node_line(src, f"{K}/p-akuntabilitas")
    tmp = node_line(src, f"{K}/k-pemeliharaan-tmp")
    assert "Rp 324.000.000 (ditulis: 32.400.0000)" in tmp  # malformed figure shown as written
    assert "target 2025: 93,59%" in node_line(src, f"{K}/p-bencana")
    assert 'fillcolor="#D9EAD3"' in node_line(src, f"{K}/p-bencana")  # coloured by level


def test_pohon_stacks_the_twelve_rehab_sub_kegiatan_in_one_group(kotim: PlanGraph) -> None:
    src = build_pohon(kotim).source
    block = src.split(f'subgraph "cluster_{K}/k-rehab-dasar"')[1].split("}")[0]
    assert len(re.findall(rf'"{K}/sk-[^"]+"\s*$', block, re.M)) == 12
    assert f'"{K}/k-rehab-dasar" -> "{K}/sk-penyediaan-permakanan" [lhead="cluster_{K}/k-rehab-dasar"]' in src


def test_pohon_collapsed_and_one_sasaran(kotim: PlanGraph) -> None:
    src = build_pohon(kotim, collapse_below="kegiatan").source
    assert f'"{K}/sk-' not in src
    assert "+ 12 elemen di bawahnya" in node_line(src, f"{K}/k-rehab-dasar")
    branch = build_pohon(kotim, sasaran="csf-2").source
    nodes = set(re.findall(rf'^\s*"{K}/([^"]+)" \[', branch, re.M))
    assert nodes == {"tujuan", "tujuan-distribusi", "csf-2", "p-psks-berdaya", "p-tmp", "k-peningkatan-psks",
                     "k-pemeliharaan-tmp", "sk-karang-taruna", "sk-pemeliharaan-tmp", "sk-pengamanan-tmp"}


def test_overlays_cut_and_checks(kotim: PlanGraph, seeded_store: GraphStore) -> None:
    ov = Overlay.from_results(impact(seeded_store, K, ["p-psks-berdaya", "p-tmp"]), run_checks(seeded_store, K))
    src = build_pohon(kotim, overlay=ov).source
    removed = node_line(src, f"{K}/p-tmp")
    assert 'fillcolor="#E6E6E6"' in removed and "DIPOTONG" in removed
    unsupported = node_line(src, f"{K}/csf-2")
    assert 'penwidth=4' in unsupported and "TANPA DUKUNGAN" in unsupported
    assert "kehilangan pendukung" in node_line(src, f"{K}/tujuan")
    assert "2 error" in node_line(src, f"{K}/k-pemeliharaan-tmp")  # budget roll-up + malformed rupiah
    plain = node_line(build_pohon(kotim).source, f"{K}/csf-2")
    assert "TANPA DUKUNGAN" not in plain


def test_distribusi_ranks_jabatan_and_shows_what_is_undistributed(kotim: PlanGraph) -> None:
    src = build_distribusi(kotim).source
    for cluster in ("cluster_jab_kotim-dinsos-2025/kadis", "cluster_jab_kotim-dinsos-2025/pk-eselon-3",
                    "cluster_jab_kotim-dinsos-2025/pk-jf", "cluster_jab_kotim-pemda-2025/bupati"):
        assert f'subgraph "{cluster}"' in src
    assert "51 elemen tanpa jabatan" in src and "7 kegiatan, 44 sub kegiatan" in src
    ranks = re.findall(r'rank(\d) \[label=<<B>([^<]+)</B>>', src)
    assert ranks == [("0", "Kepala Daerah"), ("1", "Kepala Dinas (JPT)"), ("2", "Eselon III (Administrator)"),
                     ("3", "Eselon IV (Pengawas) / JF"), ("4", "Pelaksana")]
    assert (f"{K}/csf-1", f"{K}/p-bencana") in edges(src)


def test_jabatan_view_highlights_its_elements(kotim: PlanGraph) -> None:
    src = build_jabatan(kotim, "pk-eselon-3").source
    assert src.count('color="#B8860B"') == 7  # its seven programs
    assert "Kinerja Pejabat Eselon III (PK Eselon 3) — atasan: Kepala Dinas Sosial" in src
    nodes = set(re.findall(rf'^\s*"{K}/([^"]+)" \[', src, re.M))
    assert {"csf-1", "csf-2", "csf-3", "tujuan"} <= nodes  # the chain above
    assert "k-rehab-dasar" in nodes and "sk-penyediaan-permakanan" not in nodes  # what the bawahan own, one level
    with pytest.raises(Exception, match="no jabatan 'nobody'"):
        build_jabatan(kotim, "nobody")


def test_builders_are_deterministic(kotim: PlanGraph) -> None:
    assert build_pohon(kotim).source == build_pohon(kotim).source
    assert build_distribusi(kotim).source == build_distribusi(kotim).source


def test_render_svg_png_pdf(kotim: PlanGraph) -> None:
    g = build_pohon(kotim, collapse_below="program")
    svg = ET.fromstring(render(g, "svg"))
    assert svg.tag.endswith("svg") and len(svg.findall(".//{http://www.w3.org/2000/svg}g")) > 20
    png = render(g, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width > 800 and height > 400
    assert render(g, "pdf")[:5] == b"%PDF-"


def test_render_without_dot_says_how_to_install(kotim: PlanGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GraphvizMissing, match="install Graphviz"):
        render(build_pohon(kotim, collapse_below="sasaran"), "svg")


def test_api_and_cli_diagrams(seeded_dir: Path, tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(seeded_dir))) as client:
        r = client.get(f"/api/plans/{K}/diagram.svg", params={"view": "pohon", "collapse": "kegiatan", "checks": "1"})
        assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
        assert ET.fromstring(r.content).tag.endswith("svg")
        r = client.get(f"/api/plans/{K}/diagram.png", params=[("view", "pohon"), ("cut", "p-tmp")])
        assert r.content[:4] == b"\x89PNG"
        r = client.get(f"/api/plans/{K}/diagram.pdf", params={"view": "jabatan", "jabatan": "kadis"})
        assert r.content[:5] == b"%PDF-"
        assert client.get(f"/api/plans/{K}/diagram.svg", params={"view": "jabatan"}).json()["error"]["code"] == "bad_query"
        for params in ({"view": "jabatan", "jabatan": "nope"}, {"sasaran": "nope"}):  # were 500s
            r = client.get(f"/api/plans/{K}/diagram.svg", params=params)
            assert r.status_code == 404 and r.json()["error"]["message"].startswith(f"plan '{K}' has no "), params
    out = tmp_path / "distribusi.svg"
    res = pokin(seeded_dir, "render", K, "--view", "distribusi", "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert ET.fromstring(out.read_bytes()).tag.endswith("svg")
    for bad in (tmp_path / "no-such-folder" / "x.svg", tmp_path):  # a traceback before
        res = pokin(seeded_dir, "render", K, "-o", str(bad), "--format", "svg")
        assert res.returncode == 1 and res.stderr.startswith(f"error: cannot write {bad}: "), res.stderr


def test_a_statement_of_pages_is_cut_in_its_box_and_drawn(kotim: PlanGraph) -> None:
    """A 20,000-character statement (the loader takes it) made Graphviz fail with a traceback: a label line
    longer than 16,384. A box shows the first 400 characters."""
    long = kotim.model_copy(deep=True)
    long.tree.elements[0].statement = "Meningkatnya " + "kesejahteraan sosial " * 1000
    svg = render(build_pohon(long), "svg").decode()
    assert "Meningkatnya kesejahteraan sosial" in svg and "…" in svg
    assert "kesejahteraan sosial " * 30 not in " ".join(re.sub(r"<[^>]+>", " ", svg).split())
