"""A first load into an empty embedded store goes through the engine's bulk endpoint (service.bulk).

It must build exactly the graph write_plan builds (every node, label, property and its order, every
edge), swap it in whole or not at all, and hand over to write_plan whenever it cannot go on.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import pytest

from seed.loader import read_plans
from service import bulk
from service.errors import PokinError, QueryError
from service.loading import PlanWriter, _order_by_dependency, load_paths, plan_writer
from service.store import GraphStore, open_store

from .conftest import SEED_DIR, make_settings


def _rows(store: GraphStore, text: str, graph: str | None = None) -> list[list[Any]]:
    engine: Any = store.engine
    reply = engine._raw("GRAPH.RO_QUERY", graph or engine.graph_name, text, "--compact")
    return [list(r.values()) for r in engine._rows(reply)]


def dump(store: GraphStore) -> tuple[list[str], list[tuple[str, ...]]]:
    """Every node (labels, properties in stored order; not when it was loaded) and every edge (type,
    properties, its ends), with nodes named by content: node ids differ between the two writers."""
    owner = dict(_rows(store, "MATCH (e)-[:MEASURED_BY]->(i) RETURN id(i), e.uid"))
    name = {}
    for nid, labels, props in _rows(store, "MATCH (n) RETURN id(n), labels(n), properties(n)"):
        items = [kv for kv in props.items() if kv[0] != "loaded_at"]
        name[nid] = repr((labels, owner.get(nid), items))
    edges = sorted((t, repr(p), name[a], name[b])
                   for a, t, p, b in _rows(store, "MATCH (a)-[r]->(b) RETURN id(a), type(r), properties(r), id(b)"))
    return sorted(name.values()), edges


def _load(data_dir: Path, writer: type, docs: list, **kw: Any) -> tuple[list[str], list[tuple[str, ...]]]:
    s = open_store(make_settings(data_dir))
    try:
        with writer(s, **kw) as w:
            w.add(docs)
        assert [x["id"] for x in w.written] == [d.plan.id for _, d in docs]
        return dump(s)
    finally:
        s.close()


# the create_index_* files, as the engine lists them
INDEXES = [("CrossRef", ("parent_plan", "plan"), "OPERATIONAL"), ("Element", ("plan",), "OPERATIONAL"),
           ("Jabatan", ("plan", "uid"), "OPERATIONAL"), ("Plan", ("id",), "OPERATIONAL")]


def _seed_docs() -> list:
    return _order_by_dependency(read_plans([SEED_DIR]))


def _rewrite_at(store: GraphStore) -> int:
    """The engine's auto-aof-rewrite-percentage."""
    engine: Any = store.engine
    return int(engine._raw("CONFIG", "GET", "auto-aof-rewrite-percentage")[1])


def _bulk_keys(store: GraphStore) -> list[str]:
    engine: Any = store.engine
    return engine.keys(f"{engine.graph_name}.{bulk.KEY_PREFIX}*")


@pytest.mark.parametrize("helpers", [0, 2])
def test_bulk_builds_the_graph_write_plan_builds_for_the_seeds(tmp_path: Path, helpers: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "COMMAND_ELEMENTS", 150)  # several commands, so several helpers
    docs = _seed_docs()
    nodes, edges = _load(tmp_path / "stmt", PlanWriter, docs)
    assert (len(nodes), len(edges)) == (457, 428)
    assert (nodes, edges) == _load(tmp_path / "bulk", bulk.BulkWriter, docs, helpers=helpers)


def test_bulk_builds_the_graph_write_plan_builds_for_synthetic_plans(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated plans have what the seeds lack: certified codes, owners missing, orphans, cross-plan
    parents in plans written later (reversed order: children first, so their edges wait for the parent)."""
    from bench.generate import NATIONAL, iter_pemda

    monkeypatch.setattr(bulk, "COMMAND_ELEMENTS", 300)
    scale = dataclasses.replace(NATIONAL, pemda=2, perangkat_daerah=4)
    docs = [(Path(f"{d.plan.id}.yaml"), d) for ps in iter_pemda(scale) for d in ps][::-1]
    nodes, edges = _load(tmp_path / "stmt", PlanWriter, docs)
    assert sum('"code_ok"' in n or "'code_ok'" in n for n in nodes) > 0
    assert sum("cross_plan" in e[1] for e in edges) >= 8  # every tujuan under an RPJMD sasaran
    assert (nodes, edges) == _load(tmp_path / "bulk", bulk.BulkWriter, docs, helpers=2)


def test_a_first_load_goes_through_bulk_and_later_loads_through_statements(store: GraphStore) -> None:
    w = plan_writer(store)
    assert isinstance(w, bulk.BulkWriter)
    w.close()  # nothing added: nothing written, the store stays empty
    assert store.read("count_plans")[0]["total"] == 0
    load_paths(store, [SEED_DIR])
    assert store.read("count_plans")[0]["total"] == 7
    assert isinstance(plan_writer(store), PlanWriter)
    assert _bulk_keys(store) == []


def test_the_store_is_empty_until_the_swap_and_its_indexes_are_there_after(store: GraphStore) -> None:
    docs = _seed_docs()
    w = bulk.BulkWriter(store, helpers=1)
    w.add(docs)
    w._flush(len(w._docs))
    w._drain(wait_for=None)
    w._stop_sender()
    assert store.read("count_plans")[0]["total"] == 0  # written, not yet swapped in
    assert len(_bulk_keys(store)) == 1
    w.close()
    assert store.read("count_plans")[0]["total"] == 7 and _bulk_keys(store) == []
    indexes = _rows(store, "CALL db.indexes() YIELD label, properties, status RETURN label, properties, status")
    assert sorted((r[0], tuple(sorted(r[1])), r[2]) for r in indexes) == INDEXES


def test_a_plan_written_meanwhile_sends_the_whole_load_through_statements(tmp_path: Path) -> None:
    """Someone writes a plan while the bulk graph is built: the swap must not drop it, so the load goes
    through write_plan, and the result is what statements alone give."""
    docs = _seed_docs()
    expected = _load(tmp_path / "stmt", PlanWriter, docs)
    s = open_store(make_settings(tmp_path / "bulk"))
    try:
        w = bulk.BulkWriter(s, helpers=2)
        w.add(docs[1:])
        with PlanWriter(s, compact=False) as other:  # another writer, before the bulk load is swapped in
            other.add(docs[:1])
        w.close()
        assert sorted(x["id"] for x in w.written) == sorted(d.plan.id for _, d in docs[1:])
        assert dump(s) == expected
        assert _bulk_keys(s) == []
    finally:
        s.close()


def _with_statement(doc: Any, text: str) -> Any:
    first = doc.elements[0].model_copy(update={"statement": text})
    return doc.model_copy(update={"elements": [first, *doc.elements[1:]]})


def test_a_plan_twice_in_one_load_is_replaced_as_statements_replace_it(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The second copy replaces the first, as a later load would: the graph is the one of the load
    without the first copy, whether both copies share a batch or not; progress counts on."""
    docs = _seed_docs()
    f, d = docs[0]
    twice = [*docs, (f, _with_statement(d, "the second version"))]
    expected = _load(tmp_path / "once", PlanWriter, twice[1:])
    assert _load(tmp_path / "stmt", PlanWriter, twice) == expected
    assert _load(tmp_path / "bulk", bulk.BulkWriter, twice, helpers=0) == expected
    monkeypatch.setattr(bulk, "COMMAND_ELEMENTS", 150)
    seen: list[int] = []
    s = open_store(make_settings(tmp_path / "bulk-batches"))
    try:
        with bulk.BulkWriter(s, progress=lambda p, n, t: seen.append(n), helpers=2) as w:
            w.add(twice)
        assert dump(s) == expected
    finally:
        s.close()
    assert seen == list(range(1, len(twice) + 1))


def test_rows_that_leave_out_different_keys_keep_their_property_order(tmp_path: Path) -> None:
    """One indikator with a formula and no satuan, another with both: each node keeps its row's order."""
    docs = _seed_docs()
    j, (f, d) = next((j, x) for j, x in enumerate(docs) if sum(1 for e in x[1].elements if e.indikator) >= 2)
    els = list(d.elements)
    k0, k1 = [k for k, e in enumerate(els) if e.indikator][:2]
    els[k0] = els[k0].model_copy(update={"indikator": [els[k0].indikator[0].model_copy(update={"satuan": None, "formula": "x/y"})]})
    els[k1] = els[k1].model_copy(update={"indikator": [els[k1].indikator[0].model_copy(update={"satuan": "%", "formula": "a/b"})]})
    docs[j] = (f, d.model_copy(update={"elements": els}))
    expected = _load(tmp_path / "stmt", PlanWriter, docs)
    assert any("('satuan', '%'), ('formula', 'a/b')" in n for n in expected[0])
    assert _load(tmp_path / "bulk", bulk.BulkWriter, docs, helpers=0) == expected


def test_header_orders_keep_every_rows_order() -> None:
    assert bulk.merged_order([("a", "c"), ("b", "c")]) == ["a", "b", "c"]
    assert bulk.merged_order([("id", "name", "notes"), ("id", "satuan", "formula", "notes"), ("id", "formula")]) == [
        "id", "name", "satuan", "formula", "notes"]
    assert bulk.merged_order([("a", "b"), ("b", "a")]) is None
    assert bulk.fits(("a", "c"), ["a", "b", "c"]) and not bulk.fits(("c", "a"), ["a", "b", "c"])


def test_an_error_in_the_progress_callback_stops_the_load_and_writes_nothing(store: GraphStore,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender thread goes on draining the queue (the caller never blocks on it) and the error reaches
    the caller; nothing of the load is swapped in."""
    monkeypatch.setattr(bulk, "COMMAND_ELEMENTS", 60)  # many commands queued behind the failing one

    def progress(plan: str, n: int, total: int) -> None:
        if n == 2:
            raise RuntimeError("progress sink failed")

    with pytest.raises(RuntimeError, match="progress sink failed"), \
            bulk.BulkWriter(store, progress=progress, helpers=1) as w:
        w.add(_seed_docs())
    assert store.read("count_plans")[0]["total"] == 0 and _bulk_keys(store) == []
    assert not w._thread.is_alive()


def test_a_cut_off_helper_result_is_an_error_naming_the_plans_and_its_file_is_closed_once() -> None:
    docs = _seed_docs()[:2]
    helper = bulk._Helper(docs)
    while not helper.done():
        time.sleep(0.01)
    os.ftruncate(helper.out, 20)  # as if the helper had died while writing
    message = f"building plans {docs[0][1].plan.id} ... {docs[1][1].plan.id} \\(from {docs[0][0]}\\) ended without"
    with pytest.raises(PokinError, match=message):
        helper.result()
    fd = os.open(os.devnull, os.O_RDONLY)  # may well get the number the helper's file had
    try:
        with pytest.raises(PokinError, match=message):
            helper.result()
        os.fstat(fd)  # still open
    finally:
        os.close(fd)


def test_a_writer_that_cannot_start_leaves_the_log_rewrites_on(store: GraphStore,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    def no_thread(self: Any) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    with pytest.raises(RuntimeError, match="can't start new thread"):
        bulk.BulkWriter(store)
    monkeypatch.undo()
    assert _rewrite_at(store) == 100 and not bulk._OWN_KEYS


def test_a_helpers_result_read_twice_closes_its_file_once(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(docs: list) -> dict:
        raise ValueError("no")

    monkeypatch.setattr(bulk, "part", broken)
    helper = bulk._Helper([])
    with pytest.raises(PokinError, match="a load helper: ValueError"):
        helper.result()
    fd = os.open(os.devnull, os.O_RDONLY)  # may well get the number the helper's file had
    try:
        with pytest.raises(PokinError, match="a load helper: ValueError"):
            helper.result()
        os.fstat(fd)  # still open
    finally:
        os.close(fd)


def _with_huge_pagu(doc: Any) -> Any:
    budgeted = next(i for i, e in enumerate(doc.elements) if e.anggaran is not None)
    el = doc.elements[budgeted]
    huge = el.model_copy(update={"anggaran": el.anggaran.model_copy(update={"pagu": 10**20})})
    return doc.model_copy(update={"elements": [*doc.elements[:budgeted], huge, *doc.elements[budgeted + 1:]]})


@pytest.mark.parametrize("helpers", [0, 2])
@pytest.mark.parametrize(("spoil", "error"), [
    (_with_huge_pagu, "does not fit in 64 bits"),
    (lambda d: _with_statement(d, "Meningkatnya\x00 kualitas"), "NUL character"),
])
def test_a_value_the_engine_cannot_store_writes_nothing(store: GraphStore, helpers: int, spoil: Any,
                                                        error: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """As for write_plan, an error; and a first load is all or nothing: not even the plans before it."""
    monkeypatch.setattr(bulk, "COMMAND_ELEMENTS", 150)
    docs = _seed_docs()
    f, d = docs[-1]
    docs[-1] = (f, spoil(d))
    with pytest.raises(QueryError, match=error) as exc, bulk.BulkWriter(store, helpers=helpers) as w:
        w.add(docs)
    assert str(exc.value).startswith(f"{f}: plan {d.plan.id}: ")  # which file and plan
    assert store.read("count_plans")[0]["total"] == 0
    assert _bulk_keys(store) == []
    assert _rewrite_at(store) == 100


@pytest.mark.parametrize("helpers", [0, 1])
def test_a_failure_while_building_records_names_file_and_plan_and_writes_nothing(
        store: GraphStore, helpers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from service import loading

    docs = _seed_docs()
    real = loading.plan_params

    def broken(doc: Any) -> dict:
        if doc.plan.id == docs[-1][1].plan.id:
            raise ValueError("no")
        return real(doc)

    monkeypatch.setattr(loading, "plan_params", broken)
    monkeypatch.setattr(bulk, "COMMAND_ELEMENTS", 150)  # more than one batch: helpers build them
    f, d = docs[-1]
    with pytest.raises(PokinError, match=f"{f}: plan {d.plan.id}: building bulk records: ValueError"), \
            bulk.BulkWriter(store, helpers=helpers) as w:
        w.add(docs)
    assert store.read("count_plans")[0]["total"] == 0 and _bulk_keys(store) == []


def test_the_log_is_rewritten_by_the_engine_again_after_a_bulk_load(store: GraphStore) -> None:
    assert _rewrite_at(store) == 100
    w = bulk.BulkWriter(store)
    assert _rewrite_at(store) == 0
    with w:
        w.add(_seed_docs())
    assert _rewrite_at(store) == 100


def test_a_bulk_loaded_store_is_whole_after_a_restart(data_dir: Path) -> None:
    s = open_store(make_settings(data_dir))
    try:
        load_paths(s, [SEED_DIR])
        before = dump(s)
    finally:
        s.close()
    s = open_store(make_settings(data_dir))
    try:
        assert dump(s) == before
        indexes = _rows(s, "CALL db.indexes() YIELD label, properties, status RETURN label, properties, status")
        assert sorted((r[0], tuple(sorted(r[1])), r[2]) for r in indexes) == INDEXES
    finally:
        s.close()


def test_the_swap_fails_when_a_write_comes_between_its_check_and_its_rename(store: GraphStore,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The check that the store is empty and the rename are one step for other writers (WATCH)."""
    import redis

    engine: Any = store.engine
    key = f"{engine.graph_name}.{bulk.KEY_PREFIX}{os.getpid()}-998"
    engine._raw("GRAPH.QUERY", key, "CREATE (:Plan {id: 'bulk'})")
    checked = engine.is_empty

    def check_then_another_writer() -> bool:
        empty = checked()
        redis.Redis(port=engine.server.port).execute_command("GRAPH.QUERY", engine.graph_name, "CREATE (:Plan {id: 'other'})")
        return empty

    monkeypatch.setattr(engine, "is_empty", check_then_another_writer)
    assert engine.swap_in(key) is False
    assert _rows(store, "MATCH (p:Plan) RETURN p.id") == [["other"]]
    assert _rows(store, "MATCH (p:Plan) RETURN p.id", graph=key) == [["bulk"]]
    engine.drop_graph(key)


def test_progress_names_every_plan(store: GraphStore) -> None:
    seen: list[tuple[str, int, int]] = []
    docs = _seed_docs()
    with bulk.BulkWriter(store, progress=lambda p, n, total: seen.append((p, n, total)), total=len(docs)) as w:
        w.add(docs)
    assert seen == [(d.plan.id, n, 7) for n, (_, d) in enumerate(docs, 1)]


def test_a_bulk_graph_left_by_a_dead_process_is_dropped(store: GraphStore) -> None:
    """Its pid no longer runs, or it is this process's pid (an earlier process had it) and no writer of
    this process made it. Log rewrites a dead load left off are back on once no load runs."""
    engine: Any = store.engine
    dead = f"{engine.graph_name}.{bulk.KEY_PREFIX}999999999-ab"
    earlier = f"{engine.graph_name}.{bulk.KEY_PREFIX}{os.getpid()}-cd"
    live = f"{engine.graph_name}.{bulk.KEY_PREFIX}{os.getppid()}-ef"
    for key in (dead, earlier, live):
        engine._raw("GRAPH.QUERY", key, "CREATE (:Plan {id: 'x'})")
    engine.auto_rewrite(0)
    assert bulk.can_bulk(store)
    assert _bulk_keys(store) == [live]
    assert _rewrite_at(store) == 0  # a load still runs (the live key's)
    engine.drop_graph(live)
    assert bulk.can_bulk(store)
    assert _rewrite_at(store) == 100


KILLED_LOADER = """
import dataclasses, sys
from pathlib import Path
from bench.generate import NATIONAL, iter_pemda
from service import bulk
from service.config import Settings
from service.store import open_store

bulk.COMMAND_ELEMENTS = 2_000  # many commands: the kill comes between two of them
store = open_store(Settings(_env_file=None, pokin_data_dir=Path(sys.argv[1]), neo4j_uri=None))
docs = [(Path(f"{d.plan.id}.yaml"), d) for ps in iter_pemda(dataclasses.replace(NATIONAL, pemda=40)) for d in ps]
with bulk.BulkWriter(store, progress=lambda p, n, t: print(n, flush=True)) as w:
    w.add(docs)
print("swapped", flush=True)
"""


def test_a_first_load_killed_before_its_swap_leaves_the_store_empty(data_dir: Path) -> None:
    """kill -9 the loading process and its engine once bulk commands have gone in: after a restart the
    store holds nothing of that load (the bulk graph the log replays is dropped), and a new first load
    works."""
    import signal
    import subprocess
    import sys

    from .conftest import ROOT

    proc = subprocess.Popen([sys.executable, "-c", KILLED_LOADER, str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # a command has been sent and its plans counted
        assert first.strip().isdigit(), first
        state = json_state(data_dir)
        os.kill(state["pid"], signal.SIGKILL)
        proc.kill()
    finally:
        proc.wait(30)
    s = open_store(make_settings(data_dir))
    try:
        assert s.read("count_plans")[0]["total"] == 0
        assert _bulk_keys(s) == []
        load_paths(s, [SEED_DIR])
        assert s.read("count_plans")[0]["total"] == 7
    finally:
        s.close()


def json_state(data_dir: Path) -> dict[str, int]:
    import json

    from service import embedded

    return json.loads((data_dir / embedded.STATE_FILE).read_text())


def test_two_first_loads_at_once(tmp_path: Path) -> None:
    """The first to finish is swapped in; the other finds the store full and goes through write_plan.
    The engine's own log rewrites are back on after both, whichever ends first."""
    docs = _seed_docs()
    expected = _load(tmp_path / "stmt", PlanWriter, docs)
    s = open_store(make_settings(tmp_path / "bulk"))
    try:
        first, second = bulk.BulkWriter(s, helpers=0), bulk.BulkWriter(s, helpers=0)
        first.add(docs[:4])
        second.add(docs[4:])
        first.close()
        assert _rewrite_at(s) == 100 and s.read("count_plans")[0]["total"] == 4
        second.close()
        assert _rewrite_at(s) == 100
        assert dump(s) == expected
        assert _bulk_keys(s) == []
    finally:
        s.close()
