"""The graph store on the embedded engine: named queries, parameters, atomic plan writes, restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from service import embedded
from service.errors import InvalidPlan, PokinError, QueryError
from service.loading import load_paths, plan_params
from service.models import PlanDocument
from service.plans import get_tree, list_plans
from service.store import CYPHER_DIR, GraphStore, load_queries, open_store

from .conftest import ROOT, make_settings

pytestmark = pytest.mark.integration

PLAN = {
    "plan": {"id": "demo", "pemda": "Kabupaten Demo", "perangkat_daerah": "Dinas Sosial", "tahun": 2025, "kind": "pohon_kinerja"},
    "jabatan": [{"id": "kadis", "name": "Kepala Dinas", "level": "kepala_dinas"}],
    "elements": [
        {"id": "t", "level": "tujuan", "statement": "Meningkatnya kesejahteraan", "jabatan": ["kadis"],
         "indikator": [{"name": "Persentase PPKS tertangani", "satuan": "%", "target": {2025: "93,59%"}}]},
        {"id": "p", "level": "program", "statement": "Terwujudnya rehabilitasi", "parents": ["t"], "anggaran": "306.749.630",
         "nomenklatur": {"name": "Program Rehabilitasi Sosial"}},
    ],
}


def write_yaml(path: Path, data: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


# Sample parameters for every query file: a query file without an entry here fails the test below,
# so every query in cypher/ is executed against the embedded engine.
SAMPLE_PARAMS: dict[str, dict] = {
    "get_plan": {"plan_id": "demo"},
    "get_plan_tree": {"plan_id": "demo"},
    "list_plans": {},
    "list_plans_page": {"q": "demo", "skip": 0, "limit": 50},
    "count_plans": {},
    "count_plans_matching": {"q": "demo"},
    "count_plans_without_search_text": {},
    "set_plan_search_text": {},
    "list_plan_elements": {"plan_id": "demo"},
    "list_element_names": {"plan_ids": ["demo"]},
    "delete_plan": {"plan_id": "nothing-here"},
    "write_plan": plan_params(PlanDocument.model_validate(PLAN)),
    "trace_rows": {"uid": "demo/p"},
    "impact_rows": {"cuts": ["demo/p"], "plan_id": "demo"},
    "list_jabatan": {"plan_id": "demo"},
    "get_plan_summary": {"plan_id": "demo"},
    "get_element": {"uid": "demo/p"},
    "get_external_ancestors": {"plan_id": "demo"},
    "get_plans_exist": {"plan_ids": ["demo", "not-loaded"]},
    "list_plan_ids_of_pemda": {"pemda": PLAN["plan"]["pemda"]},
    "list_detached_references": {"plan_ids": ["demo"]},
    "list_absent": {"plan_ids": ["demo"]},
    "list_plan_scales": {"plan_ids": ["demo"]},
    **{name: {"plan_ids": ["demo"]} for name in (
        "check_orphans", "check_dead_ends", "check_unfunded_leaves", "check_cycles", "check_indikator_facts",
        "check_repeated_indikator", "check_budget_rollup", "check_malformed_rupiah")},
    **{name: {"plan_ids": ["demo"], "code_ok": 0, "bidang_prefix": "1.06."}
       for name in ("check_nomenklatur_facts", "check_nomenklatur_parents")},
    "check_owners": {"plan_ids": ["demo"], "allowed": []},
    "check_indikator_names": {"plan_ids": ["demo"], "count_words": ["jumlah"], "proportion_words": ["persentase"],
                              "percent_units": ["%"], "first_words": ["jumlah", "persentase"]},
    "check_output_indikator": {"plan_ids": ["demo"], "outcome_levels": ["tujuan", "sasaran", "program"],
                               "first_words": ["jumlah"]},
    "check_condition_wording": {"plan_ids": ["demo"], "condition_levels": ["sasaran", "program", "kegiatan", "sub_kegiatan"]},
}
# Queries that legitimately return no row for the demo plan (it is clean in that respect).
EMPTY_FOR_DEMO = {"delete_plan", "check_orphans", "check_unfunded_leaves", "check_cycles",
                  "check_repeated_indikator", "check_budget_rollup", "check_malformed_rupiah",
                  "get_external_ancestors", "check_indikator_names",
                  "check_nomenklatur_parents", "check_output_indikator", "check_condition_wording",
                  "list_detached_references", "list_absent", "list_plan_scales"}  # their rows: test_admin_api, test_cli, test_checks


def test_registry_reads_every_file() -> None:
    queries = load_queries()
    files = {p.stem for p in CYPHER_DIR.glob("*.cypher")}
    assert set(queries) == files
    assert queries["write_plan"].write and not queries["list_plans"].write
    assert queries["get_plan_tree"].params == {"plan_id"}
    assert all(q.description for q in queries.values()), "every query file starts with // lines saying what it returns"


def test_parameters_are_checked(store: GraphStore) -> None:
    with pytest.raises(QueryError, match="needs parameter"):
        store.read("get_plan")
    with pytest.raises(QueryError, match="does not use parameter"):
        store.read("get_plan", plan_id="x", extra=1)
    with pytest.raises(QueryError, match="unknown query"):
        store.read("drop_everything")
    with pytest.raises(QueryError, match="is a write query"):
        store.read("delete_plan", plan_id="x")


@pytest.mark.parametrize("name", sorted(p.stem for p in CYPHER_DIR.glob("*.cypher")))
def test_every_query_file_runs_on_the_embedded_engine(store: GraphStore, name: str) -> None:
    store.write("write_plan", **SAMPLE_PARAMS["write_plan"])
    if name.startswith("create_index_"):
        store.ensure_schema()  # indexes exist already: must be accepted again
        return
    assert name in SAMPLE_PARAMS, f"add sample parameters for {name} to SAMPLE_PARAMS"
    rows = store.query(name, **SAMPLE_PARAMS[name])
    assert isinstance(rows, list)
    if name not in EMPTY_FOR_DEMO:
        assert rows, f"{name} returned no row for the demo plan"


@pytest.mark.parametrize("value", ["it's", 'say "hi"', "back\\slash\\", 'x" }) DETACH DELETE n //', "line\nbreak\ttab", "Rp – ±ñ"])
def test_values_travel_as_parameters_unchanged(store: GraphStore, tmp_path: Path, value: str) -> None:
    """A quote in a value must never become Cypher (the embedded Bolt endpoint spliced it in)."""
    data = json.loads(json.dumps(PLAN))
    data["elements"][0]["statement"] = value
    load_paths(store, [write_yaml(tmp_path / "p.yaml", data)])
    tree = get_tree(store, "demo")
    assert tree.elements[0].statement == value
    assert len(tree.elements) == 2


def test_large_parameter_payload(store: GraphStore, tmp_path: Path) -> None:
    """Payloads of many KB (the embedded Bolt endpoint dropped the connection on these)."""
    data = json.loads(json.dumps(PLAN))
    data["elements"] += [{"id": f"k{i}", "level": "kegiatan", "statement": "Terpenuhinya " + "x" * 400, "parents": ["p"],
                          "anggaran": "1.000.000"} for i in range(600)]
    load_paths(store, [write_yaml(tmp_path / "p.yaml", data)])
    (summary,) = list_plans(store)
    assert summary.counts["kegiatan"] == 600
    assert summary.anggaran_total == 306749630


def test_reload_replaces_the_plan(store: GraphStore, tmp_path: Path) -> None:
    load_paths(store, [write_yaml(tmp_path / "p.yaml", PLAN)])
    data = json.loads(json.dumps(PLAN))
    data["elements"] = data["elements"][:1]
    load_paths(store, [write_yaml(tmp_path / "p.yaml", data)])
    (summary,) = list_plans(store)
    assert summary.counts["program"] == 0 and summary.counts["tujuan"] == 1 and summary.counts["indikator"] == 1


def test_invalid_file_writes_nothing(store: GraphStore, tmp_path: Path) -> None:
    load_paths(store, [write_yaml(tmp_path / "p.yaml", PLAN)])
    before = get_tree(store, "demo").model_dump()
    bad = json.loads(json.dumps(PLAN))
    bad["elements"][0]["statement"] = "changed"
    bad["elements"][1]["parents"] = ["missing"]
    other = json.loads(json.dumps(PLAN))
    other["plan"]["id"] = "other"
    with pytest.raises(InvalidPlan):
        load_paths(store, [write_yaml(tmp_path / "a.yaml", other), write_yaml(tmp_path / "p.yaml", bad)])
    assert get_tree(store, "demo").model_dump() == before
    assert [p.id for p in list_plans(store)] == ["demo"]


def test_failing_write_is_rolled_back_whole(store: GraphStore) -> None:
    """A statement that fails after deleting the old plan must leave the old plan intact."""
    store.write("write_plan", **SAMPLE_PARAMS["write_plan"])
    before = get_tree(store, "demo").model_dump()
    params = json.loads(json.dumps(SAMPLE_PARAMS["write_plan"]))
    params["indikator"][0]["bad"] = {"a map": "cannot be a property"}  # fails at SET, after the deletes ran
    with pytest.raises(PokinError):
        store.write("write_plan", **params)
    assert get_tree(store, "demo").model_dump() == before


def test_write_failing_at_its_last_step_is_rolled_back_whole(store: GraphStore) -> None:
    """The last step of write_plan fails: the old plan's nodes and edges (deleted at the start) all come back."""
    store.write("write_plan", **SAMPLE_PARAMS["write_plan"])
    before = get_tree(store, "demo").model_dump()
    params = json.loads(json.dumps(SAMPLE_PARAMS["write_plan"]))
    params["crossrefs"] = [{"plan": "demo", "child": "demo/p", "parent": "x/y", "parent_plan": "x", "bad": {"m": 1}}]
    with pytest.raises(PokinError):
        store.write("write_plan", **params)
    assert get_tree(store, "demo").model_dump() == before


def test_cross_plan_edges_survive_replacing_the_parent_plan(store: GraphStore, tmp_path: Path) -> None:
    parent = {"plan": {"id": "pemda", "pemda": "X", "perangkat_daerah": "Bupati", "tahun": 2025, "kind": "rpjmd"},
              "elements": [{"id": "s", "level": "sasaran", "statement": "Menguatnya penanganan PMKS"}]}
    child = json.loads(json.dumps(PLAN))
    child["elements"][0]["parents"] = ["pemda/s"]
    load_paths(store, [write_yaml(tmp_path / "child.yaml", child), write_yaml(tmp_path / "pemda.yaml", parent)])
    assert get_tree(store, "demo").elements[0].parents == ["pemda/s"]
    load_paths(store, [write_yaml(tmp_path / "pemda.yaml", parent)])
    assert get_tree(store, "demo").elements[0].parents == ["pemda/s"]
    missing = json.loads(json.dumps(child))
    missing["elements"][0]["parents"] = ["pemda/nope", "elsewhere/x"]
    with pytest.raises(InvalidPlan) as exc:
        load_paths(store, [write_yaml(tmp_path / "child.yaml", missing)])
    assert [p.message for p in exc.value.problems] == [
        "plan 'pemda' has no element 'nope'",
        "parent plan 'elsewhere' is neither loaded nor in this load",
    ]


@pytest.mark.parametrize("per_statement", [1, 3, 64])
def test_plans_sharing_a_statement_keep_their_own_edges_and_owners(store: GraphStore, per_statement: int,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """write_plan names edge and owner ends by position across all plans of the statement
    (merge_params shifts each plan's positions): every seed plan reads back as its document, whether
    written alone, three to a statement, or all in one."""
    from seed.loader import read_plans
    from service import loading
    from service.capaian import tree_from_document

    from .conftest import SEED_DIR

    monkeypatch.setattr(loading, "BATCH_PLANS", per_statement)
    docs = loading._order_by_dependency(read_plans([SEED_DIR]))
    loading.write_documents(store, docs)
    for _, doc in docs:
        stored = get_tree(store, doc.plan.id)
        stored.plan.loaded_at = None
        assert stored == tree_from_document(doc), doc.plan.id
    assert sum(len(e.parents) for _, d in docs for e in d.elements) == sum(
        len(e.parents) for _, d in docs for e in get_tree(store, d.plan.id).elements) == 144


def test_a_load_leaves_objects_frozen_by_the_process_frozen(store: GraphStore, tmp_path: Path) -> None:
    """load_paths keeps its documents out of the collector's passes, but in a process that froze its
    own objects (pokin serve after startup) it leaves the freezing alone instead of undoing it."""
    import gc

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        load_paths(store, [write_yaml(tmp_path / "p.yaml", PLAN)])
        assert gc.get_freeze_count() == frozen > 0
    finally:
        gc.unfreeze()
    load_paths(store, [write_yaml(tmp_path / "p.yaml", PLAN)])
    assert gc.get_freeze_count() == 0


def test_data_survives_restart(data_dir: Path, tmp_path: Path) -> None:
    s = open_store(make_settings(data_dir))
    try:
        load_paths(s, [write_yaml(tmp_path / "p.yaml", PLAN)])
    finally:
        s.close()
    assert not (data_dir / embedded.STATE_FILE).exists()
    s = open_store(make_settings(data_dir))
    try:
        assert [p.id for p in list_plans(s)] == ["demo"]
    finally:
        s.close()


def test_a_new_store_snapshots_its_indexes_before_anything_is_written(data_dir: Path) -> None:
    """The index definitions are in the snapshot, not in the log replayed after it: the engine fills
    indexes created in a replayed log only after the replay, so a crash in a first load made every
    replayed lookup scan all elements (17 s instead of 1.6 s for 40,000 elements)."""
    s = open_store(make_settings(data_dir))
    try:
        logs = list((data_dir / "appendonlydir").glob("*.incr.aof"))
        assert logs and not any(b"CREATE INDEX" in f.read_bytes() for f in logs)
        indexed = {(r[0], tuple(sorted(r[1]))) for r in s.engine._graph.query("CALL db.indexes()").result_set}  # type: ignore[attr-defined]
        # (no Element uid index: elements are found through their plan, see cypher/README.md)
        assert indexed == {("Element", ("plan",)), ("Jabatan", ("plan", "uid")), ("Plan", ("id",)),
                           ("CrossRef", ("parent_plan", "plan"))}
    finally:
        s.close()


def test_compaction_covers_writes_made_while_the_engine_was_rewriting_its_log(store: GraphStore, data_dir: Path) -> None:
    """The engine rewrites its log by itself as it grows. compact() called while such a rewrite runs
    waited for it and returned: the plans written after that rewrite began stayed in the log, for every
    restart to replay (seen as a restart of 8 s instead of 4.5 s after the national benchmark load).
    It now starts a rewrite of its own once that one is done."""
    conn = store.engine._db.connection  # type: ignore[attr-defined]
    store.write("write_plan", **SAMPLE_PARAMS["write_plan"])
    conn.config_set("rdb-key-save-delay", 1_000_000)  # the engine's own test knob: 1 s per key saved, a slow rewrite
    try:
        conn.bgrewriteaof()
        store.write("write_plan", **plan_params(PlanDocument.model_validate({**PLAN, "plan": {**PLAN["plan"], "id": "other"}})))
        assert conn.info("persistence")["aof_rewrite_in_progress"] == 1
    finally:
        conn.config_set("rdb-key-save-delay", 0)
    store.compact()
    logs = list((data_dir / "appendonlydir").glob("*.incr.aof"))
    assert logs and all(f.stat().st_size == 0 for f in logs)


def test_compaction_waits_out_a_running_rewrite_and_then_starts_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a fake connection: each BGREWRITEAOF refused as "already in progress" is retried once the
    running rewrite is done; the last one accepted is waited for. Past the deadline it gives up (the
    log is whole either way) instead of asking forever."""
    import types

    import redis

    from service.store import EmbeddedEngine

    class Conn:
        def __init__(self, busy: int) -> None:
            self.busy, self.sent = busy, 0

        def bgrewriteaof(self) -> None:
            self.sent += 1
            if self.busy:
                raise redis.exceptions.ResponseError("Background append only file rewriting already in progress")
            self.busy = -1  # ours runs until the next poll

        def info(self, section: str) -> dict:
            if self.busy > 0:
                self.busy -= 1  # a running rewrite finishes as we poll
            elif self.busy < 0:
                self.busy = 0
                return {"aof_rewrite_in_progress": 1, "aof_rewrite_scheduled": 0}
            return {"aof_rewrite_in_progress": int(self.busy > 0), "aof_rewrite_scheduled": 0}

    monkeypatch.setattr("service.store.time.sleep", lambda s: None)
    engine = EmbeddedEngine.__new__(EmbeddedEngine)
    engine._db = types.SimpleNamespace(connection=Conn(busy=2))  # type: ignore[attr-defined]
    engine.compact()
    assert engine._db.connection.sent == 2 and engine._db.connection.busy == 0  # type: ignore[attr-defined]

    class Stuck(Conn):
        def info(self, section: str) -> dict:
            return {"aof_rewrite_in_progress": 1, "aof_rewrite_scheduled": 0}

    clock = iter(range(0, 10_000, 100))
    monkeypatch.setattr("service.store.time.monotonic", lambda: next(clock))
    engine._db = types.SimpleNamespace(connection=Stuck(busy=1))  # type: ignore[attr-defined]
    engine.compact()  # returns once its 300 s are up
    assert engine._db.connection.sent == 1  # type: ignore[attr-defined]


def test_plans_written_before_search_text_are_found_after_a_restart(data_dir: Path, tmp_path: Path) -> None:
    """Plans from a version that wrote no search_text: opening the store fills it in, so the plans
    page finds them (its query reads only search_text)."""
    from service.plans import plans_page

    s = open_store(make_settings(data_dir))
    try:
        load_paths(s, [write_yaml(tmp_path / "p.yaml", PLAN)])
        s.engine._graph.query("MATCH (p:Plan) SET p.search_text = NULL")  # type: ignore[attr-defined]  # as older versions wrote it
        assert plans_page(s, "dinas sosial")[1] == 0
    finally:
        s.close()
    s = open_store(make_settings(data_dir))
    try:
        found, matching, total = plans_page(s, "dinas SOSIAL")
        assert [p.id for p in found] == ["demo"] and (matching, total) == (1, 1)
        assert s.read("count_plans_without_search_text")[0]["plans"] == 0
    finally:
        s.close()


def test_a_port_taken_between_choosing_and_binding_is_chosen_again(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process may bind the port the engine was given before the engine does: pokin starts it
    again on another port instead of failing (or talking to whatever listens there)."""
    import socket

    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    ports = iter([taken])
    free = embedded._free_port
    monkeypatch.setattr(embedded, "_free_port", lambda: next(ports, None) or free())
    try:
        s = open_store(make_settings(data_dir))
        try:
            assert s.engine.server.port != taken and s.read("list_plans") == []  # type: ignore[attr-defined]
        finally:
            s.close()
    finally:
        squatter.close()
    assert "Address already in use" in (data_dir / embedded.LOG_FILE).read_text()


def test_the_engine_runs_the_configured_query_threads_and_delta_limit(data_dir: Path) -> None:
    s = open_store(make_settings(data_dir, pokin_engine_threads=3))
    try:
        assert s.read("list_plans") == []
        setting = s.engine._command("GRAPH.CONFIG", "GET", "DELTA_MAX_PENDING_CHANGES", retry=True)  # type: ignore[attr-defined]
        assert setting == ["DELTA_MAX_PENDING_CHANGES", embedded.DELTA_MAX_PENDING_CHANGES]
    finally:
        s.close()
    log = (data_dir / embedded.LOG_FILE).read_text()
    assert "Thread pool created, using 3 threads" in log and "Maximum number of OpenMP threads set to 3" in log


def test_default_engine_threads_leave_a_cpu_to_pokin() -> None:
    assert embedded.default_threads() == max(1, len(os.sched_getaffinity(0)) - 1)


def _drop_clients(s: GraphStore) -> None:
    """Have the engine close every client connection, as a restarted or idle-closing server would."""
    s.engine._db.connection.execute_command("CLIENT", "KILL", "TYPE", "normal")  # type: ignore[attr-defined]


def test_a_read_on_a_connection_the_engine_closed_is_sent_again(store: GraphStore, tmp_path: Path) -> None:
    load_paths(store, [write_yaml(tmp_path / "p.yaml", PLAN)])
    assert [r["id"] for r in store.read("get_plans_exist", plan_ids=["demo"])] == ["demo"]
    _drop_clients(store)
    assert [r["id"] for r in store.read("get_plans_exist", plan_ids=["demo"])] == ["demo"]


def test_a_write_on_a_connection_the_engine_closed_is_not_sent_again(store: GraphStore, tmp_path: Path) -> None:
    """The engine may have run a write whose reply was lost, so pokin reports it instead of repeating it."""
    from service.errors import GraphUnavailable

    load_paths(store, [write_yaml(tmp_path / "p.yaml", PLAN)])
    _drop_clients(store)
    with pytest.raises(GraphUnavailable):
        store.query("delete_plan", plan_id="demo")
    assert [r["id"] for r in store.read("get_plans_exist", plan_ids=["demo"])] == ["demo"]  # the next statement gets a new connection


def test_threads_read_on_their_own_connections(store: GraphStore, tmp_path: Path) -> None:
    """Each thread keeps a connection of its own: concurrent reads get their own replies."""
    from concurrent.futures import ThreadPoolExecutor

    ids = [f"demo-{k}" for k in range(6)]
    for pid in ids:
        write_yaml(tmp_path / f"{pid}.yaml", {**PLAN, "plan": {**PLAN["plan"], "id": pid}})
    load_paths(store, [tmp_path])

    together = threading.Barrier(len(ids))

    def reads(pid: str) -> tuple[set[str], int]:
        together.wait(timeout=30)  # all six at once, each in its own thread
        got = {r["id"] for _ in range(40) for r in store.read("list_plan_elements", plan_id=pid)} | {
            r["id"] for _ in range(40) for r in store.read("get_plans_exist", plan_ids=[pid])}
        return got, id(store.engine._local.conn)  # type: ignore[attr-defined]

    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        results = list(pool.map(reads, ids))
    assert [got for got, _ in results] == [{"t", "p", pid} for pid in ids]
    assert len({conn for _, conn in results}) == len(ids)


def test_a_coroutine_reads_the_same_rows(store: GraphStore, tmp_path: Path) -> None:
    """GraphStore.aread (the API's trace and impact) gives what read gives, also many at once on one loop."""
    import asyncio

    load_paths(store, [write_yaml(tmp_path / "p.yaml", PLAN)])
    reads = [("trace_rows", {"uid": "demo/p"}), ("impact_rows", {"cuts": ["demo/p"], "plan_id": "demo"}),
             ("list_plans", {}), ("get_plans_exist", {"plan_ids": ["demo", "nothing"]})]

    async def all_at_once() -> list[list[dict]]:
        return await asyncio.gather(*(store.aread(name, **params) for name, params in reads * 5))

    got = asyncio.run(all_at_once())
    assert got == [store.read(name, **params) for name, params in reads * 5]
    assert got[0] and got[1] and [r["id"] for r in got[3]] == ["demo"]
    with pytest.raises(QueryError, match="needs parameter"):
        asyncio.run(store.aread("trace_rows"))


def test_a_coroutine_read_on_an_engine_without_arun_runs_in_a_worker_thread() -> None:
    """Neo4j's adapter has no arun: aread runs its run() in a worker thread, never on the event loop."""
    import asyncio

    class SyncOnly:
        name = "sync-only"

        def run(self, query: object, params: dict, timeout: float) -> list[dict]:
            return [{"thread": threading.current_thread().name, "params": params}]

    s = GraphStore(SyncOnly(), load_queries(), 5.0)  # type: ignore[arg-type]
    [row] = asyncio.run(s.aread("get_plans_exist", plan_ids=["demo"]))
    assert row["params"] == {"plan_ids": ["demo"]} and row["thread"] != threading.main_thread().name


def test_a_coroutine_read_survives_a_closed_connection_and_reports_errors(store: GraphStore) -> None:
    import asyncio

    from service.errors import GraphUnavailable
    from service.store import NamedQuery

    bad = NamedQuery("bad", "RETURN no_such_function(1) AS x", frozenset(), False, "")

    async def scenario() -> None:
        assert await store.aread("list_plans") == []
        _drop_clients(store)  # the loop's idle connection is closed by the engine: the read is sent again
        assert await store.aread("list_plans") == []
        with pytest.raises(PokinError, match="query 'bad' failed"):
            await store.engine.arun(bad, {}, 5)  # type: ignore[attr-defined]
        assert await store.aread("list_plans") == []  # the connection that carried the error is fine
        store.engine.server.stop()  # type: ignore[attr-defined]
        with pytest.raises(GraphUnavailable):
            await store.aread("list_plans")

    asyncio.run(scenario())


def test_reads_sent_ahead_arrive_in_order_and_a_failure_abandons_the_rest(store: GraphStore, tmp_path: Path) -> None:
    """read_many pipelines its reads on a connection of its own: each reply in the order asked, the same
    rows as read; a failing statement raises there, and the thread's own connection is untouched."""
    load_paths(store, [write_yaml(tmp_path / "p.yaml", PLAN)])
    requests = [("list_plans", {}), ("trace_rows", {"uid": "demo/p"}), ("get_plans_exist", {"plan_ids": ["demo"]}),
                ("impact_rows", {"cuts": ["demo/p"], "plan_id": "demo"})] * 3
    assert list(store.read_many(requests)) == [store.read(name, **params) for name, params in requests]
    replies = store.read_many(requests)
    assert next(replies) == store.read("list_plans")  # the thread's own connection meanwhile
    replies.close()  # abandon the rest
    with pytest.raises(QueryError, match="needs parameter"):
        store.read_many([("list_plans", {}), ("trace_rows", {})])  # refused before anything is sent
    with pytest.raises(QueryError, match="get_plans_exist"):
        store.read_many([("list_plans", {}), ("get_plans_exist", {"plan_ids": [float("nan")]})])  # so is a value
    from service.store import NamedQuery

    plans, bad = store.queries["list_plans"], NamedQuery("bad", "RETURN no_such_function(1) AS x", frozenset(), False, "")
    replies = store.engine.run_many([(plans, {}), (bad, {}), (plans, {})], 5.0)  # type: ignore[attr-defined]
    assert len(next(replies)) == 1
    with pytest.raises(PokinError, match="query 'bad' failed"):
        next(replies)
    assert [p.id for p in list_plans(store)] == ["demo"]


def test_reads_sent_ahead_on_an_engine_without_run_many_run_in_threads() -> None:
    class SyncOnly:
        name = "sync-only"

        def run(self, query: object, params: dict, timeout: float) -> list[dict]:
            return [{"thread": threading.current_thread().name, **params}]

    s = GraphStore(SyncOnly(), load_queries(), 5.0)  # type: ignore[arg-type]
    rows = list(s.read_many([("get_plans_exist", {"plan_ids": [f"p{k}"]}) for k in range(5)]))
    assert [r[0]["plan_ids"] for r in rows] == [[f"p{k}"] for k in range(5)]
    assert all(r[0]["thread"].startswith("pokin-read") for r in rows)


def test_second_process_reuses_the_running_server(data_dir: Path, tmp_path: Path) -> None:
    first = open_store(make_settings(data_dir))
    try:
        load_paths(first, [write_yaml(tmp_path / "p.yaml", PLAN)])
        out = subprocess.run([sys.executable, "-m", "service.cli", "plans", "--format", "json"], cwd=ROOT, capture_output=True,
                             text=True, env={**os.environ, "POKIN_DATA_DIR": str(data_dir)}, timeout=60)
        assert out.returncode == 0, out.stderr
        assert [p["id"] for p in json.loads(out.stdout)] == ["demo"]
        assert first.read("list_plans"), "the second process must not stop the server it did not start"
    finally:
        first.close()


def test_stale_state_file_is_replaced(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / embedded.STATE_FILE).write_text(json.dumps({"port": 1, "pid": 999999}))
    s = open_store(make_settings(data_dir))
    try:
        assert s.read("list_plans") == []
    finally:
        s.close()


def test_plan_is_whole_or_absent_after_kill_9_mid_write(data_dir: Path) -> None:
    """kill -9 the engine while a big plan is being written: after restart it is there whole or not at all."""
    s = open_store(make_settings(data_dir))
    server = s.engine.server  # type: ignore[attr-defined]
    big = json.loads(json.dumps(PLAN))
    big["elements"] += [{"id": f"k{i}", "level": "kegiatan", "statement": f"K{i}", "parents": ["p"]} for i in range(3000)]
    params = plan_params(PlanDocument.model_validate(big))
    errors: list[Exception] = []

    def write() -> None:
        try:
            s.write("write_plan", **params)
        except Exception as e:  # the connection dies with the server
            errors.append(e)

    t = threading.Thread(target=write)
    t.start()
    time.sleep(0.02)
    os.kill(server.pid, signal.SIGKILL)
    t.join(60)
    server.process.wait()
    s.engine._db.connection.close()  # type: ignore[attr-defined]
    (data_dir / embedded.STATE_FILE).unlink(missing_ok=True)
    s2 = open_store(make_settings(data_dir))
    try:
        plans = list_plans(s2)
        if plans:
            assert plans[0].counts["kegiatan"] == 3000
        rows = s2.read("list_plan_elements", plan_id="demo")
        assert len(rows) in (0, 3002)
    finally:
        s2.close()


def test_a_server_that_does_not_answer_its_first_graph_command_is_started_again(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine once locked itself on its first graph command (its main thread waiting for a lock no
    thread held): pokin waited a minute, failed, and left the server running. Now it starts it again."""
    import redis

    spawned: list[subprocess.Popen[bytes]] = []
    spawn = embedded._spawn

    def recording_spawn(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        proc = spawn(*args, **kwargs)
        spawned.append(proc)
        return proc

    real = redis.Redis.execute_command
    stuck = [True]

    def first_probe_hangs(self: redis.Redis, *args: object, **options: object) -> object:
        if args[:1] == ("GRAPH.QUERY",) and args[-1] == "RETURN 1" and stuck:
            stuck.clear()
            raise redis.exceptions.TimeoutError("Timeout reading from socket")
        return real(self, *args, **options)

    monkeypatch.setattr(embedded, "_spawn", recording_spawn)
    monkeypatch.setattr(redis.Redis, "execute_command", first_probe_hangs)
    s = open_store(make_settings(tmp_path / "data"))
    try:
        assert len(spawned) == 2 and spawned[0].pid != spawned[1].pid
        assert spawned[0].poll() is not None  # the one that did not answer is gone
        assert s.engine.server.pid == spawned[1].pid and s.read("count_plans")[0]["total"] == 0
    finally:
        s.close()


def test_a_server_that_answers_nothing_at_its_start_is_started_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine was seen accepting connections and answering no PING for two minutes after its start
    (a test's setup failed on it). A server this process started that answers nothing at all, not even
    'loading', for STUCK_S is killed and started once more."""
    spawned: list[subprocess.Popen[bytes]] = []
    spawn, ping = embedded._spawn, embedded._ping

    def recording_spawn(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        proc = spawn(*args, **kwargs)
        spawned.append(proc)
        return proc

    def first_server_silent(port: int, timeout: float = 0.5) -> str | None:
        return "Timeout reading from socket" if len(spawned) == 1 else ping(port, timeout)

    monkeypatch.setattr(embedded, "STUCK_S", 0.3)
    monkeypatch.setattr(embedded, "_spawn", recording_spawn)
    monkeypatch.setattr(embedded, "_ping", first_server_silent)
    server = embedded.start(tmp_path / "data")
    try:
        assert len(spawned) == 2 and spawned[0].poll() is not None and server.pid == spawned[1].pid
    finally:
        server.stop()


def test_a_first_graph_command_to_a_silent_server_ends_as_stuck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that accepts the connection and never answers (as the locked engine did) is found stuck
    after one try: the client's default retries held a real start for minutes."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    monkeypatch.setattr(embedded, "FIRST_ANSWER_S", 0.3)
    try:
        with pytest.raises(embedded._Stuck, match="did not answer a first command on graph 'pokin'"):
            embedded._first_answer(listener.getsockname()[1], "pokin", tmp_path)
        listener.setblocking(False)
        connections = 0
        while True:  # the connections the client made: one, not one per retry
            try:
                listener.accept()[0].close()
            except BlockingIOError:
                break
            connections += 1
    finally:
        listener.close()
    assert connections == 1
