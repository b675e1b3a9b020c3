"""Writes through the API behind the token (load, replace, delete a plan) and the jabatan endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.main import create_app

from .conftest import SEED_DIR, make_settings

pytestmark = pytest.mark.integration

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
YAML = {**AUTH, "Content-Type": "application/yaml"}
PEMDA = (SEED_DIR / "kotim-pemda-2025.yaml").read_bytes()
DINSOS = (SEED_DIR / "kotim-dinsos-2025.yaml").read_bytes()


@pytest.fixture()
def writer(data_dir: Path) -> Iterator[TestClient]:
    """A client on a fresh, empty store that accepts the token."""
    with TestClient(create_app(make_settings(data_dir, pokin_token=TOKEN))) as c:
        yield c


@pytest.fixture()
def reader(seeded_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(seeded_dir))) as c:
        yield c


def plan_ids(client: TestClient) -> list[str]:
    return sorted(p["id"] for p in client.get("/api/plans").json())


def test_upload_raw_yaml_then_multipart_and_replace(writer: TestClient) -> None:
    r = writer.post("/api/plans", content=PEMDA, headers=YAML)
    assert r.status_code == 201
    assert r.json() == {"id": "kotim-pemda-2025", "elements": 2, "replaced": False, "detached": []}
    assert r.headers["location"] == "/api/plans/kotim-pemda-2025"

    r = writer.post("/api/plans", files={"file": ("kotim-dinsos-2025.yaml", DINSOS, "application/yaml")}, headers=AUTH)
    assert r.status_code == 201
    assert r.json() == {"id": "kotim-dinsos-2025", "elements": 72, "replaced": False, "detached": []}
    assert plan_ids(writer) == ["kotim-dinsos-2025", "kotim-pemda-2025"]
    kotim = writer.get("/api/plans/kotim-dinsos-2025").json()
    assert kotim["counts"]["sub_kegiatan"] == 44 and kotim["anggaran_total"] == 6_312_818_993

    # the same plan again, as plain text with the other header: replaced whole, not doubled
    r = writer.post("/api/plans", content=DINSOS, headers={"X-Pokin-Token": TOKEN, "Content-Type": "text/plain; charset=utf-8"})
    assert r.status_code == 201
    assert r.json() == {"id": "kotim-dinsos-2025", "elements": 72, "replaced": True, "detached": []}
    assert plan_ids(writer) == ["kotim-dinsos-2025", "kotim-pemda-2025"]
    assert len(writer.get("/api/plans/kotim-dinsos-2025/tree").json()["elements"]) == 72


def test_a_broken_parent_is_refused_whole_naming_file_line_and_field(writer: TestClient) -> None:
    writer.post("/api/plans", content=PEMDA, headers=YAML)
    before = writer.get("/api/plans").json()
    # csf-1 (line 127 of the Kotim file) loses its parent tujuan-distribusi to a typo
    bad = DINSOS.replace(b"parents: [tujuan, tujuan-distribusi]", b"parents: [tujuan, tujuan-distribsi]", 1)
    r = writer.post("/api/plans", files={"file": ("kotim-bad.yaml", bad, "application/yaml")}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_plan"
    assert r.json()["error"]["problems"] == [{"file": "kotim-bad.yaml", "line": 127, "field": "elements[3](id=csf-1).parents[1]",
                                              "message": "unknown parent 'tujuan-distribsi'"}]
    assert writer.get("/api/plans").json() == before


def test_a_cross_plan_parent_must_be_loaded_first(writer: TestClient) -> None:
    r = writer.post("/api/plans", content=DINSOS, headers=YAML)
    assert r.status_code == 422
    assert r.json()["error"]["problems"][0]["file"] == "upload.yaml"
    assert r.json()["error"]["problems"][0]["field"] == "elements[2](id=tujuan-distribusi).parents[0]"
    assert r.json()["error"]["problems"][0]["line"] == 111  # the file's line (it named the source document's line 1277)
    assert plan_ids(writer) == []


def test_non_utf8_is_refused_naming_the_file(writer: TestClient) -> None:
    body = PEMDA.replace(b"Kepala Daerah", "Kepala Daerah \u00e9".encode("latin-1"), 1)
    r = writer.post("/api/plans", files={"file": ("pemda-latin1.yaml", body)}, headers=AUTH)
    assert r.status_code == 422
    (problem,) = r.json()["error"]["problems"]
    assert problem["file"] == "pemda-latin1.yaml" and problem["line"] == 4 and "not UTF-8" in problem["message"]
    assert plan_ids(writer) == []


def test_tokens(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir, pokin_token=TOKEN))) as client:
        r = client.post("/api/plans", content=PEMDA, headers={"Content-Type": "application/yaml"})
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["code"] == "unauthorized"
        for wrong in ({"Authorization": "Bearer nope"}, {"X-Pokin-Token": "s3cre"}, {"Authorization": f"Bearer {TOKEN}x"}):
            r = client.post("/api/plans", content=PEMDA, headers={**wrong, "Content-Type": "application/yaml"})
            assert r.status_code == 403 and r.json() == {"error": {"code": "forbidden", "message": "the token is not valid"}}
        assert client.delete("/api/plans/kotim-pemda-2025").status_code == 401
        assert plan_ids(client) == []
    with TestClient(create_app(make_settings(data_dir))) as client:
        r = client.post("/api/plans", content=PEMDA, headers=YAML)
        assert r.status_code == 403
        assert r.json() == {"error": {"code": "writes_disabled", "message": "set POKIN_TOKEN to allow loading and deleting plans"}}
        assert client.delete("/api/plans/kotim-pemda-2025", headers=AUTH).status_code == 403


def test_over_the_limit_is_refused(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir, pokin_token=TOKEN, pokin_upload_limit=1000))) as client:
        r = client.post("/api/plans", content=PEMDA, headers=YAML)  # Content-Length says too much
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        # no Content-Length (chunked): refused while counting
        r = client.post("/api/plans", content=iter([PEMDA[:800], PEMDA[800:]]), headers=YAML)
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        r = client.post("/api/plans", files={"file": ("kotim-pemda-2025.yaml", PEMDA)}, headers=AUTH)
        assert r.status_code == 413
        assert plan_ids(client) == []


def test_one_plan_file_per_upload(writer: TestClient) -> None:
    """Two 'file' fields loaded one and dropped the other without a word."""
    r = writer.post("/api/plans", files=[("file", ("a.yaml", PEMDA, "application/yaml")),
                                         ("file", ("b.yaml", DINSOS, "application/yaml"))], headers=AUTH)
    assert r.status_code == 422 and "send one plan file per request" in r.json()["error"]["message"]
    assert plan_ids(writer) == []


def test_unsupported_body(writer: TestClient) -> None:
    r = writer.post("/api/plans", json={"plan": {}}, headers=AUTH)
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    r = writer.post("/api/plans", files={"upload": ("kotim-pemda-2025.yaml", PEMDA)}, headers=AUTH)
    assert r.status_code == 422
    assert r.json() == {"error": {"code": "bad_request", "message": "the multipart body has no field 'file'"}}


def test_delete(writer: TestClient) -> None:
    writer.post("/api/plans", content=PEMDA, headers=YAML)
    r = writer.delete("/api/plans/kotim-pemda-2025", headers=AUTH)
    assert r.status_code == 204 and r.content == b""
    assert plan_ids(writer) == []
    r = writer.delete("/api/plans/kotim-pemda-2025", headers=AUTH)
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "no plan 'kotim-pemda-2025' is loaded"}}


def test_concurrent_replaces_all_answer_201_and_leave_one_whole_plan(writer: TestClient) -> None:
    """Twenty clients replacing plans at once: each write is acknowledged, and the plan is one whole version
    after. Each write's sender thread took a connection the client's pool counted and never got back
    (503 after about a hundred writes), and compacting the engine's log after every write forked it
    per request and, failing, answered 500 for a write that was kept."""
    from concurrent.futures import ThreadPoolExecutor

    assert writer.post("/api/plans", content=PEMDA, headers=YAML).status_code == 201

    def replace(k: int) -> int:
        return writer.post("/api/plans", content=DINSOS if k % 10 == 1 else PEMDA, headers=YAML).status_code

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(replace, range(120)))  # beyond the client's pool of 100 connections
    assert codes == [201] * 120
    assert plan_ids(writer) == ["kotim-dinsos-2025", "kotim-pemda-2025"]
    assert len(writer.get("/api/plans/kotim-dinsos-2025/tree").json()["elements"]) == 72


def test_replacing_a_plan_without_an_element_others_name_says_so(writer: TestClient) -> None:
    """Kotim's dinas tujuan contributes to the pemda's sasaran-pmks: a pemda version without it was taken
    with 201 and nothing said, and the dinas plan silently lost its link up."""
    for body in (PEMDA, DINSOS):
        assert writer.post("/api/plans", content=body, headers=YAML).status_code == 201
    renamed = PEMDA.replace(b"id: sasaran-pmks", b"id: sasaran-pmks-baru")
    r = writer.post("/api/plans", content=renamed, headers=YAML)
    assert r.status_code == 201 and r.json()["detached"] == [
        {"plan": "kotim-dinsos-2025", "element": "tujuan-distribusi", "parent": "kotim-pemda-2025/sasaran-pmks"}]
    assert writer.get("/api/plans/kotim-dinsos-2025/nodes/tujuan-distribusi/trace").json()["reaches"] == ["tujuan"]
    back = writer.post("/api/plans", content=PEMDA, headers=YAML)
    assert back.json()["detached"] == []  # the link is back
    paths = writer.get("/api/plans/kotim-dinsos-2025/nodes/tujuan-distribusi/trace").json()["paths"]
    assert [(s["plan"], s["id"]) for s in paths[0]] == [("kotim-dinsos-2025", "tujuan-distribusi"), ("kotim-pemda-2025", "sasaran-pmks"),
                                                       ("kotim-pemda-2025", "tujuan-rpjmd")]


def test_jabatan_list_by_level(reader: TestClient) -> None:
    body = reader.get("/api/plans/kotim-dinsos-2025/jabatan").json()
    assert [(j["id"], j["level"], j["atasan"]) for j in body] == [
        ("kadis", "kepala_dinas", None), ("pk-eselon-3", "eselon_iii", "kadis"), ("pk-jf", "jf", "pk-eselon-3")]
    assert body[0]["name"] == "Kepala Dinas Sosial" and body[0]["unit"] == "Dinas Sosial"
    assert body[0]["elements"] == ["tujuan", "tujuan-renstra", "tujuan-distribusi", "csf-1", "csf-2", "csf-3", "sasaran-renstra"]


def test_one_jabatan(reader: TestClient) -> None:
    kadis = reader.get("/api/plans/kotim-dinsos-2025/jabatan/kadis").json()
    assert kadis["jabatan"]["id"] == "kadis"
    assert len(kadis["elements"]) == 7
    assert kadis["elements"][0]["id"] == "tujuan" and kadis["elements"][0]["jabatan_ids"] == ["kadis"]
    assert kadis["atasan"] == []
    assert [j["id"] for j in kadis["bawahan"]] == ["pk-eselon-3"]
    assert kadis["contributes_to"] == ["kotim-pemda-2025/sasaran-pmks"]
    assert kadis["contributors"] == ["p-bencana", "p-rehabilitasi", "p-jaminan-sosial", "p-migran", "p-psks-berdaya", "p-tmp",
                                     "p-akuntabilitas"]

    eselon3 = reader.get("/api/plans/kotim-dinsos-2025/jabatan/pk-eselon-3").json()
    assert [j["id"] for j in eselon3["atasan"]] == ["kadis"]
    assert [j["id"] for j in eselon3["bawahan"]] == ["pk-jf"]
    assert eselon3["contributes_to"] == ["csf-1", "csf-2", "csf-3"]

    jf = reader.get("/api/plans/kotim-dinsos-2025/jabatan/pk-jf").json()
    assert [j["id"] for j in jf["atasan"]] == ["pk-eselon-3", "kadis"]
    assert jf["bawahan"] == []


def test_unknown_jabatan_or_plan(reader: TestClient) -> None:
    r = reader.get("/api/plans/kotim-dinsos-2025/jabatan/camat")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "plan 'kotim-dinsos-2025' has no jabatan 'camat'"}}
    assert reader.get("/api/plans/nope/jabatan").status_code == 404


def test_openapi_documents_the_new_routes(reader: TestClient) -> None:
    paths = reader.get("/openapi.json").json()["paths"]
    assert set(paths["/api/plans"]) == {"get", "post"}
    assert "multipart/form-data" in paths["/api/plans"]["post"]["requestBody"]["content"]
    assert "delete" in paths["/api/plans/{plan_id}"]
    assert {"/api/plans/{plan_id}/jabatan", "/api/plans/{plan_id}/jabatan/{jabatan_id}"} <= set(paths)
