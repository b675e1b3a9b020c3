"""The JSON API, exercised with its lifespan on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.main import create_app

from .conftest import make_settings

pytestmark = pytest.mark.integration


@pytest.fixture()
def client(seeded_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(seeded_dir))) as c:
        yield c


def test_health(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "engine": "embedded", "plans": 7}


def test_plans(client: TestClient) -> None:
    plans = {p["id"]: p for p in client.get("/api/plans").json()}
    kotim = plans["kotim-dinsos-2025"]
    assert kotim["counts"] == {"tujuan": 3, "sasaran": 4, "program": 7, "kegiatan": 14, "sub_kegiatan": 44,
                               "indikator": 80, "jabatan": 3}
    assert kotim["anggaran_total"] == 6_312_818_993
    assert (kotim["pemda"], kotim["tahun"]) == ("Kabupaten Kotawaringin Timur", 2025)
    assert client.get("/api/plans/kotim-dinsos-2025").json() == kotim


def test_tree(client: TestClient) -> None:
    body = client.get("/api/plans/kotim-dinsos-2025/tree").json()
    assert body["plan"]["id"] == "kotim-dinsos-2025"
    els = {e["id"]: e for e in body["elements"]}
    assert len(els) == 72
    gaji = els["sk-gaji-tunjangan"]
    assert gaji["anggaran"]["raw"] == "3.536.925. 665" and gaji["anggaran"]["wellformed"] is False
    assert gaji["indikator"][0]["target"]["2025"]["raw"] == "33 Orang / Bulan"


def test_not_found_has_the_one_error_shape(client: TestClient) -> None:
    r = client.get("/api/plans/nope/tree")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "no plan 'nope' is loaded"}}


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/health", "/api/plans", "/api/plans/{plan_id}", "/api/plans/{plan_id}/tree"} <= set(paths)


def test_plans_page_searches_and_pages(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.web import routes

    page = client.get("/", params={"q": "buleleng"}).text
    assert "2 rencana (dari 7)" in page and "buleleng-dinsos-2023" in page and "kotim-dinsos-2025" not in page
    monkeypatch.setattr(routes, "PAGE_SIZE", 3)
    second = client.get("/", params={"page": 2}).text
    assert "halaman 2 dari 3" in second and 'rel="prev"' in second and 'rel="next"' in second
    assert client.get("/", params={"q": "nothing-like-this"}).text.count("Tidak ada rencana yang cocok") == 1


def test_api_plans_pages_and_searches(client: TestClient) -> None:
    every = [p["id"] for p in client.get("/api/plans").json()]
    assert len(every) == 7 and every == sorted(every)
    r = client.get("/api/plans", params={"offset": 2, "limit": 3})
    assert [p["id"] for p in r.json()] == every[2:5] and r.headers["x-total-count"] == "7"
    r = client.get("/api/plans", params={"q": "Kotawaringin"})
    assert [p["id"] for p in r.json()] == ["kotim-dinsos-2025", "kotim-pemda-2025"] and r.headers["x-total-count"] == "2"
    assert client.get("/api/plans", params={"limit": 0}).status_code == 422
    far = client.get("/api/plans", params={"offset": 1_000_000_000})
    assert far.json() == [] and far.headers["x-total-count"] == "7"
    # the engine takes SKIP modulo 2^32: 4294967296 listed every plan, 4294967299 as 3 did
    assert client.get("/api/plans", params={"offset": 4_294_967_296}).status_code == 422


def test_plans_page_reads_one_page_from_the_store(seeded_store) -> None:
    """The plans page asks the store for one page (list_plans_page) and the counts (count_plans), as
    filtering every plan in Python did: same order, same matches, any case."""
    from service.plans import list_plans, plans_page

    every = [p.id for p in list_plans(seeded_store)]
    assert [p.id for p in plans_page(seeded_store, "", 3, 3)[0]] == every[3:6]
    assert plans_page(seeded_store, "", 6, 3)[1:] == (7, 7)
    found, matching, total = plans_page(seeded_store, "  KABUPATEN Buleleng ", 0, 50)
    assert [p.id for p in found] == ["buleleng-dinsos-2023", "buleleng-dinsos-2024"] and (matching, total) == (2, 7)
    assert found[0] == next(p for p in list_plans(seeded_store) if p.id == "buleleng-dinsos-2023")


def test_pemda_checks_page(client: TestClient) -> None:
    """All plans of a pemda checked together on one page, linked from the plans page."""
    assert "/pemda/Kabupaten%20Kotawaringin%20Timur/checks" in client.get("/").text
    page = client.get("/pemda/Kabupaten Kotawaringin Timur/checks")
    assert page.status_code == 200
    api = client.get("/api/checks", params={"pemda": "Kabupaten Kotawaringin Timur"}).json()
    assert f"{api['counts']['error']} error" in page.text and "kotim-pemda-2025" in page.text
    assert 'href="/plans/kotim-dinsos-2025?node=sasaran-renstra"' in page.text  # a finding links to its element
    missing = client.get("/pemda/Kabupaten Atlantis/checks")
    assert missing.status_code == 404 and "Kabupaten Atlantis" in missing.text


def test_the_served_app_freezes_its_startup_objects(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pokin serve` runs serve_app: after startup the garbage collector no longer walks what lives as
    long as the process; an app built by create_app() (the tests) leaves the collector alone."""
    import gc

    from service.main import serve_app

    monkeypatch.setenv("POKIN_DATA_DIR", str(data_dir))
    gc.unfreeze()
    try:
        with TestClient(create_app()) as c:
            assert c.get("/api/health").status_code == 200 and gc.get_freeze_count() == 0
        with TestClient(serve_app()) as c:
            assert c.get("/api/health").json()["plans"] == 0 and gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_checks_cache_keeps_one_version_per_plan_and_a_bounded_number(seeded_store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages' check reports are cached per plan version: a new version replaces the old one, and
    the cache forgets the plans checked longest ago beyond its size."""
    from types import SimpleNamespace

    from service.config import Settings
    from service.plans import get_plan
    from service.web import routes

    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace()))
    settings = Settings(_env_file=None)
    kotim = get_plan(seeded_store, "kotim-dinsos-2025")
    first = routes._reports(request, seeded_store, [kotim], settings)["kotim-dinsos-2025"]  # type: ignore[arg-type]
    assert routes._reports(request, seeded_store, [kotim], settings)["kotim-dinsos-2025"] is first  # type: ignore[arg-type]
    newer = kotim.model_copy(update={"loaded_at": "2099-01-01T00:00:00+00:00"})
    again = routes._reports(request, seeded_store, [newer], settings)["kotim-dinsos-2025"]  # type: ignore[arg-type]
    assert again is not first and again.findings == first.findings
    assert list(request.app.state.check_cache) == ["kotim-dinsos-2025"]
    monkeypatch.setattr(routes, "CHECK_CACHE_PLANS", 2)
    three = [get_plan(seeded_store, pid) for pid in ("bontang-dspm-iku", "buleleng-dinsos-2023", "kotim-pemda-2025")]
    reports = routes._reports(request, seeded_store, three, settings)  # type: ignore[arg-type]
    assert sorted(reports) == ["bontang-dspm-iku", "buleleng-dinsos-2023", "kotim-pemda-2025"]
    assert list(request.app.state.check_cache) == ["buleleng-dinsos-2023", "kotim-pemda-2025"]



def test_errors_come_in_two_shapes_a_page_for_the_browser_and_json_for_the_api(client: TestClient) -> None:
    """FastAPI's own answers (no route, a method a route does not take, a query parameter that does not
    validate) were {"detail": ...} JSON, on the explorer's pages too."""
    for path in ("/?page=abc", "/plans", "/nope", "/plans/kotim-dinsos-2025/nodes/tujuan?fragment=maybe"):
        r = client.get(path)
        assert r.status_code in (404, 422) and r.headers["content-type"].startswith("text/html"), path
        assert '<div class="card" role="alert">' in r.text and "Kembali ke daftar rencana" in r.text, path
    assert client.get("/api/nope").json() == {"error": {"code": "not_found", "message": "no such page or endpoint"}}
    put = client.put("/api/plans/kotim-dinsos-2025")
    assert put.status_code == 405 and put.json()["error"]["code"] == "method_not_allowed" and "GET" in put.headers["allow"]
    assert client.get("/api/plans", params={"limit": 0}).json()["error"]["problems"][0]["field"] == "query.limit"
