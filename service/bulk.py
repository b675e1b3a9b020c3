"""A first load into an empty embedded store through the engine's bulk endpoint (GRAPH.BULK).

`write_plan` writes plans as Cypher statements: the engine parses every parameter, then runs the
statement's operators over its rows. For a million elements that is 33 s of engine time alone
(docs/benchmarks.md). The bulk endpoint takes nodes and edges as binary records and adds them
without Cypher, but it only builds a graph that does not exist yet. So when the store holds no plan
at all, pokin:

1. turns the plans into the same rows `write_plan` takes (`service.loading.plan_params`), and writes
   them as binary records into a graph of its own, under a key no other writer knows, whole plans per
   command (a command holds a plan's nodes and all its edges). Forked helper processes build the
   records of a batch each while this process numbers nodes and sends commands;
2. creates the store's indexes on that graph after its first command (the same `create_index_*`
   files; the engine keeps them as the later commands add nodes);
3. swaps it in, atomically: `WATCH` the store's graph, check that it is still empty, then
   `MULTI / DEL / RENAME / EXEC`. A write by anyone else in between makes `EXEC` fail.

Readers see the empty store until the swap, then every plan of the load: a first load is all or
nothing. If the swap fails (someone wrote a plan meanwhile), the whole load goes through `write_plan`
instead. A plan id that comes twice in one load (write_plan replaces the first) swaps in what the bulk
graph holds, and the rest follows as statements. A value the engine cannot store (a NUL character,
an integer beyond 64 bits, NaN) is an error, as it is for write_plan, and nothing is written.
The engine may change this format between versions (FalkorDB says so in its specification); the
version is pinned, and tests/test_bulk.py loads the same plans both ways and compares every node,
edge and property.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import os
import pickle
import queue
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from service.errors import GraphUnavailable, PokinError, QueryError
from service.models import PlanDocument
from service.store import GraphStore

# Node labels and relationship types as write_plan creates them.
LEVEL_LABELS = {"tujuan": "Element:Tujuan", "sasaran": "Element:Sasaran", "program": "Element:KondisiAntara",
                "kegiatan": "Element:Kegiatan", "sub_kegiatan": "Element:SubKegiatan"}
# Whole plans per command up to about this many elements (~120 MB of records). Each helper process
# builds one command; fewer, bigger ones cost fewer forks of a big process (about 0.1 s each for 5 GB)
# and fewer engine calls: a national load took 29.5 s with 50,000, 28.3 s with 100,000 and 33.1 s
# with 200,000 (whose first and last commands leave a CPU idle longer).
COMMAND_ELEMENTS = 100_000
MAX_BATCH_PLANS = 4_096
KEY_PREFIX = "bulk-"  # the bulk graph's key: "<graph>.bulk-<pid>-<random>"
REWRITE_DEFAULT = 100  # the engine's auto-aof-rewrite-percentage as pokin starts it (its default)

_Q = struct.Struct("<q").pack
_D = struct.Struct("<d").pack
_U32 = struct.Struct("<I").pack
_EDGE = struct.Struct("<QQ").pack


class NeedsStatements(Exception):
    """This plan cannot go through the bulk format: the rest of the load goes through write_plan."""


_NUL = "a string holds a NUL character, where the engine's records end (write_plan refuses it too)"


def _encode(v: Any, field: str) -> bytes:
    """One property value in the bulk format: a type byte, then the value."""
    t = type(v)
    if t is str:
        if "\0" in v:
            raise QueryError(f"{field}: {_NUL}")
        return b"\x03" + v.encode() + b"\x00"
    if t is bool:
        return b"\x01\x01" if v else b"\x01\x00"
    if t is int:
        try:
            return b"\x04" + _Q(v)
        except struct.error:
            raise QueryError(f"{field}: integer {v} does not fit in 64 bits") from None
    if t is float:
        if not math.isfinite(v):
            raise QueryError(f"{field}: {v} is not a number the engine stores")
        return b"\x02" + _D(v)
    if t is list or t is tuple:
        return b"\x05" + _Q(len(v)) + b"".join(_encode(x, field) for x in v)
    if v is None:
        return b"\x00"
    raise QueryError(f"{field}: cannot store a {t.__name__}")


def _header(name: str, keys: list[str]) -> bytes:
    return name.encode() + b"\x00" + _U32(len(keys)) + b"".join(k.encode() + b"\x00" for k in keys)


def merged_order(sequences: Iterable[tuple[str, ...]]) -> list[str] | None:
    """One order of every key in which each sequence's keys keep their order (the engine stores a
    node's properties in header order, write_plan in its row's order, and rows leave out their null
    keys); keys first seen earlier come first where the sequences allow. None if two sequences
    disagree."""
    seqs = list(sequences)
    first: dict[str, int] = {}
    after: dict[str, set[str]] = {}
    for seq in seqs:
        for k in seq:
            first.setdefault(k, len(first))
            after.setdefault(k, set())
        for a, b in itertools.pairwise(seq):
            after[a].add(b)
    waiting = {k: 0 for k in first}
    for k in after:
        for b in after[k]:
            waiting[b] += 1
    ready = sorted((k for k, n in waiting.items() if n == 0), key=first.__getitem__)
    order: list[str] = []
    while ready:
        k = ready.pop(0)
        order.append(k)
        for b in sorted(after[k], key=first.__getitem__):
            waiting[b] -= 1
            if waiting[b] == 0:
                ready.append(b)
        ready.sort(key=first.__getitem__)
    return order if len(order) == len(first) else None


def fits(sequence: tuple[str, ...], order: list[str]) -> bool:
    """Whether the keys of `sequence` are all in `order`, in the same order."""
    it = iter(order)
    return all(k in it for k in sequence)


def key_order(rows: list[dict[str, Any]]) -> list[str]:
    """A header order that keeps every row's own key order."""
    order = merged_order(dict.fromkeys(tuple(r) for r in rows))  # first seen first, whatever the hash seed
    if order is None:
        raise NeedsStatements("rows whose keys come in contradicting orders")
    return order


_NONE = type(None)
_BOOLS = {None: b"\x00", True: b"\x01\x01", False: b"\x01\x00"}
_MIN64, _MAX64 = -(1 << 63), (1 << 63) - 1


def _column(values: list[Any], field: str) -> list[bytes]:
    """One property of every node, encoded; a column of one type (or null) takes a short way."""
    types = set(map(type, values))
    if types <= {str, _NONE}:
        if any("\0" in v for v in values if v is not None):
            raise QueryError(f"{field}: {_NUL}")
        return [b"\x00" if v is None else b"\x03" + v.encode() + b"\x00" for v in values]
    if types <= {bool, _NONE}:
        return [_BOOLS[v] for v in values]
    if types <= {int, _NONE} and all(_MIN64 <= v <= _MAX64 for v in values if v is not None):
        return [b"\x00" if v is None else b"\x04" + _Q(v) for v in values]
    if types <= {list, _NONE}:  # lists of text or of integers (years, units)
        items = [x for v in values if v is not None for x in v]
        kinds = set(map(type, items))
        if kinds <= {str}:
            if any("\0" in x for x in items):
                raise QueryError(f"{field}: {_NUL}")
            return [b"\x00" if v is None else b"\x05" + _Q(len(v)) + b"".join([b"\x03" + x.encode() + b"\x00" for x in v])
                    for v in values]
        if kinds <= {int} and all(_MIN64 <= x <= _MAX64 for x in items):
            return [b"\x00" if v is None else b"\x05" + _Q(len(v)) + b"".join([b"\x04" + _Q(x) for x in v]) for v in values]
    return [b"\x00" if v is None else _encode(v, field) for v in values]


def node_records(label: str, rows: list[dict[str, Any]], order: list[str]) -> bytes:
    """Each row's values in the order of the keys (null for a key the row lacks: the engine stores
    nothing for it)."""
    columns = [_column([r.get(k) for r in rows], f"{label}.{k}") for k in order]
    return b"".join([b for node in zip(*columns, strict=True) for b in node])


class _Blobs:
    """Node blobs built plan by plan, a label's nodes in plan order: each plan's rows are encoded and
    dropped before the next plan's are made (a helper held every row of its batch at once: 600 MB
    of fresh pages for 100,000 elements, whose page faults cost more than the encoding). A label
    whose later rows bring keys the blob's header lacks, or in an order it does not keep, starts a
    new blob."""

    def __init__(self) -> None:
        self.order: dict[str, list[str]] = {}
        self.fitting: dict[str, set[tuple[str, ...]]] = {}
        self.chunks: dict[str, list[bytes]] = {}
        self.count: dict[str, int] = {}
        self.finished: dict[str, list[tuple[bytes, int, str]]] = {}

    def add(self, key: str, label: str, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        order = self.order.get(key)
        fitting = self.fitting.setdefault(key, set())  # key sequences known to fit the header
        new = list(dict.fromkeys(sig for sig in map(tuple, rows) if sig not in fitting))
        if order is None or not all(fits(sig, order) for sig in new):
            if order is not None:
                self._finish(key, label)
            order = merged_order([tuple(order or ()), *new]) or key_order(rows)
            self.order[key] = order
            fitting.clear()
        fitting.update(new)
        self.chunks.setdefault(key, []).append(node_records(label, rows, order))
        self.count[key] = self.count.get(key, 0) + len(rows)

    def _finish(self, key: str, label: str) -> None:
        if self.count.get(key):
            blob = _header(label, self.order[key]) + b"".join(self.chunks.pop(key))
            self.finished.setdefault(key, []).append((blob, self.count.pop(key), key))

    def blobs(self) -> list[tuple[bytes, int, str]]:
        """(blob, nodes, group) in the order of NODE_GROUPS."""
        out = []
        for key, label in NODE_GROUPS:
            self._finish(key, label)
            out.extend(self.finished.get(key, ()))
        return out


def edge_blob(rel: str, pairs: list[tuple[int, int]], props: dict[str, Any] | None = None) -> bytes:
    """Edges of one type, each from node id to node id, all with the same properties."""
    keys = list(props or {})
    tail = b"".join(_encode(props[k], f"{rel}.{k}") for k in keys) if props else b""
    return _header(rel, keys) + b"".join(_EDGE(a, b) + tail for a, b in pairs)


NODE_GROUPS = (("plans", "Plan"), ("jabatan", "Jabatan"), *((lv, label) for lv, label in LEVEL_LABELS.items()),
               ("indikator", "Indikator"), ("crossrefs", "CrossRef"))
# what a part keeps of each plan's parameters to number nodes and edges (small lists of integers and ids)
PLAN_KEYS = ("indikator_of", "edge_child", "edge_parent", "owner_element", "owner_jabatan", "reports", "crossrefs")


def part(docs: list[tuple[Path, PlanDocument]]) -> dict[str, Any]:
    """What a command needs that does not depend on node ids, and the costly part of building one:
    the plans' rows (service.loading.plan_params, as write_plan gets them) turned into node blobs, one
    per label, and per plan the positions its edges name. Pure: it may run in another process."""
    from service.loading import LEVEL_KEYS, plan_params

    blobs = _Blobs()
    plans = []
    for f, d in docs:
        try:
            p = plan_params(d)
            for key, label in NODE_GROUPS:
                blobs.add(key, label, p[key])
        except QueryError as e:
            raise QueryError(f"{f}: plan {d.plan.id}: {e}") from None
        except NeedsStatements:
            raise
        except Exception as e:
            raise PokinError(f"{f}: plan {d.plan.id}: building bulk records: {e!r}") from e
        kept = {k: p[k] for k in PLAN_KEYS}
        if p["crossrefs"]:  # (child's seq, parent's plan, parent's id in it)
            seq_of = {r["uid"]: r["seq"] for lv in LEVEL_KEYS for r in p[lv]}
            kept["crossrefs"] = [(seq_of[x["child"]], x["parent_plan"], x["parent"][len(x["parent_plan"]) + 1:])
                                 for x in p["crossrefs"]]
        kept["levels"] = {lv: [r["seq"] for r in p[lv]] for lv in LEVEL_KEYS}
        kept["jabatan"] = [r["uid"] for r in p["jabatan"]]
        kept["id"] = d.plan.id
        plans.append(kept)
    return {"blobs": blobs.blobs(), "plans": plans}


class _Command:
    """One GRAPH.BULK command: node blobs, then edge blobs."""

    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.edges: list[bytes] = []
        self.node_count = 0
        self.edge_count = 0
        self.docs: list[tuple[Path, PlanDocument]] = []

    def add_edges(self, rel: str, pairs: list[tuple[int, int]], props: dict[str, Any] | None = None) -> None:
        if pairs:
            self.edges.append(edge_blob(rel, pairs, props))
            self.edge_count += len(pairs)

    def args(self, key: str, begin: bool) -> tuple[Any, ...]:
        return ("GRAPH.BULK", key, *(("BEGIN",) if begin else ()), self.node_count, self.edge_count,
                len(self.nodes), len(self.edges), *self.nodes, *self.edges)


class BulkGraph:
    """Numbers the nodes of a load's commands in the order the engine creates them (from 0 in a new
    graph), and joins cross-plan edges, including those to plans written after their children."""

    def __init__(self) -> None:
        self.next_id = 0
        self.written: dict[str, tuple[list[int], PlanDocument]] = {}  # plan id -> (node id by seq, document)
        self._seq_of: dict[str, dict[str, int]] = {}  # plan id -> element id -> seq, for plans others name
        self.waiting: dict[str, list[tuple[str, int]]] = {}  # plan not written yet -> (its element, child node id)
        self.plan_ids: set[str] = set()

    def _node(self, plan_id: str, local: str) -> int | None:
        """The node id of element `local` of a plan written already (None if it has no such element:
        write_plan makes no edge either; the loader refuses such a reference before)."""
        ids, doc = self.written[plan_id]
        seq_of = self._seq_of.get(plan_id)
        if seq_of is None:
            seq_of = self._seq_of[plan_id] = {el.id: n for n, el in enumerate(doc.elements)}
        seq = seq_of.get(local)
        return None if seq is None else ids[seq]

    def check(self, docs: list[tuple[Path, PlanDocument]]) -> None:
        """Raises NeedsStatements for a plan this load has written already (write_plan replaces it)."""
        seen = set(self.plan_ids)
        for _, d in docs:
            if d.plan.id in seen:
                raise NeedsStatements(f"plan {d.plan.id!r} twice in one load")
            seen.add(d.plan.id)

    def command(self, docs: list[tuple[Path, PlanDocument]], built: dict[str, Any]) -> _Command:
        """The command that writes these plans, from their part."""
        from service.loading import LEVEL_KEYS

        self.check(docs)
        cmd = _Command()
        first: dict[str, int] = {}
        for blob, count, key in built["blobs"]:
            first.setdefault(key, self.next_id + cmd.node_count)
            cmd.nodes.append(blob)
            cmd.node_count += count
        at = dict(first)  # the next node id of each group, plan after plan
        measured: list[tuple[int, int]] = []
        contributes: list[tuple[int, int]] = []
        owned: list[tuple[int, int]] = []
        reports: list[tuple[int, int]] = []
        cross: list[tuple[int, int]] = []
        docs_by_id = {d.plan.id: d for _, d in docs}
        for p in built["plans"]:
            ids = [0] * sum(len(p["levels"][lv]) for lv in LEVEL_KEYS)
            for lv in LEVEL_KEYS:
                n = at.get(lv, 0)
                for seq in p["levels"][lv]:
                    ids[seq] = n
                    n += 1
                at[lv] = n
            self.written[p["id"]] = (ids, docs_by_id[p["id"]])
            for local, child in self.waiting.pop(p["id"], ()):  # children written before their parent
                if (parent := self._node(p["id"], local)) is not None:
                    cross.append((child, parent))
            ind = at.get("indikator", 0)
            measured.extend((ids[e], i) for i, e in enumerate(p["indikator_of"], ind))
            at["indikator"] = ind + len(p["indikator_of"])
            contributes.extend((ids[c], ids[q]) for c, q in zip(p["edge_child"], p["edge_parent"], strict=True))
            jab = at.get("jabatan", 0)
            jab_uid = {u: j for j, u in enumerate(p["jabatan"], jab)}
            at["jabatan"] = jab + len(p["jabatan"])
            owned.extend((ids[e], jab + j) for e, j in zip(p["owner_element"], p["owner_jabatan"], strict=True))
            for r in p["reports"]:  # write_plan matches both ends by uid: an unknown atasan makes no edge
                a, b = jab_uid.get(r["jabatan"]), jab_uid.get(r["atasan"])
                if a is not None and b is not None:
                    reports.append((a, b))
            for seq, parent_plan, local in p["crossrefs"]:
                if parent_plan not in self.written:
                    self.waiting.setdefault(parent_plan, []).append((local, ids[seq]))
                elif (parent := self._node(parent_plan, local)) is not None:
                    cross.append((ids[seq], parent))
        cmd.add_edges("MEASURED_BY", measured)
        cmd.add_edges("CONTRIBUTES_TO", contributes)
        cmd.add_edges("CONTRIBUTES_TO", cross, {"cross_plan": True})
        cmd.add_edges("OWNED_BY", owned)
        cmd.add_edges("REPORTS_TO", reports)
        self.next_id += cmd.node_count
        self.plan_ids.update(d.plan.id for _, d in docs)
        cmd.docs = list(docs)
        return cmd


def _memory_file() -> int:
    """A file descriptor of an anonymous file (in memory where the system has memfd)."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("pokin-bulk-part")
    with tempfile.TemporaryFile() as f:
        return os.dup(f.fileno())


class _Helper:
    """part(docs) computed in a forked copy of this process: it has the documents already, so nothing
    is sent to it. Its result goes to a memory file (a pipe would block it until read), read back when
    the writer needs it. One copy per batch: a copy kept for several batches measured slower (its
    heap grew, and the copies' page faults were as many)."""

    def __init__(self, docs: list[tuple[Path, PlanDocument]]):
        self.out = _memory_file()
        self.status: int | None = None
        self.outcome: tuple[bool, Any] | None = None  # (True, part) or (False, error), once read
        # what its errors name: the batch's plans and where the first comes from
        self.batch = f"plans {docs[0][1].plan.id} ... {docs[-1][1].plan.id} (from {docs[0][0]})" if docs else "no plans"
        self.pid = os.fork()
        if self.pid == 0:  # the helper: compute, write, leave without running any of the parent's cleanup
            code = 0
            try:
                gc.disable()  # short-lived, and its rows hold no cycles
                try:
                    payload = pickle.dumps((True, part(docs)), protocol=pickle.HIGHEST_PROTOCOL)
                except Exception as e:  # part() names file and plan; anything else is a helper's own failure
                    err = e if isinstance(e, (NeedsStatements, PokinError)) else PokinError(f"a load helper: {e!r}")
                    payload = pickle.dumps((False, err))
                with os.fdopen(self.out, "wb", closefd=False) as f:
                    f.write(payload)
            except BaseException:
                code = 1
            finally:
                os._exit(code)

    def done(self) -> bool:
        """Whether the helper has ended (without waiting)."""
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status is not None

    def result(self) -> dict[str, Any]:
        """The part (waiting for the helper); its error raised here, again at each call (its memory
        file is read and closed once)."""
        if self.outcome is None:
            self.outcome = (False, PokinError(f"a load helper process ({self.pid}) building {self.batch} ended "
                                              "without a whole result"))
            if self.status is None:
                self.status = os.waitpid(self.pid, 0)[1]
            try:
                os.lseek(self.out, 0, os.SEEK_SET)
                with os.fdopen(self.out, "rb", closefd=False) as f:
                    data = f.read()
            finally:
                os.close(self.out)
            if data and self.status == 0:
                with contextlib.suppress(Exception):  # a cut-off result stays the error above
                    self.outcome = pickle.loads(data)
        ok, value = self.outcome
        if not ok:
            raise value
        return cast(dict[str, Any], value)


def default_helpers() -> int:
    """Helper processes that build parts at once: one per CPU, up to 4 (the writer's own process
    mostly waits for them; the engine, nearly idle in a bulk load, shares the CPUs with them). None
    without fork: the writer builds every part itself."""
    if not hasattr(os, "fork"):
        return 0
    return max(1, min(4, os.cpu_count() or 1))


_OWN_KEYS: set[str] = set()  # bulk graphs of this process's writers that are still open


class BulkWriter:
    """PlanWriter's interface (add, close, written, build_s) for a first load through GRAPH.BULK.

    The caller's thread turns plans into commands while a sender thread sends the previous one, as
    PlanWriter does. Use `service.loading.plan_writer`, which picks this writer only for an empty
    embedded store.
    """

    def __init__(self, store: GraphStore, progress: Callable[[str, int, int], None] | None = None,
                 total: int = 0, depth: int = 2, compact: bool = True, helpers: int | None = None):
        self.store, self.engine = store, store.engine
        self.progress, self.total, self.compact = progress, total, compact
        # pid, then a random part: a process whose pid an earlier one had (containers start at the same
        # pids) must not run into a bulk graph that one left
        self.key = f"{self.engine.graph_name}.{KEY_PREFIX}{os.getpid()}-{os.urandom(6).hex()}"
        self.graph = BulkGraph()
        self.written: list[dict[str, Any]] = []
        self.build_s = 0.0  # turning plans into commands, in the caller's thread
        self.engine_s = 0.0  # the sender thread's time in GRAPH.BULK commands (socket and engine)
        self.finish_s = 0.0  # indexes on the bulk graph and the swap
        self.commands = 0
        self.helpers = default_helpers() if helpers is None else helpers
        self._docs: list[tuple[Path, PlanDocument]] = []  # every document added, in order
        self._batch_start = 0  # the next batch: documents from here on
        self._size = 0  # its elements so far
        # batches being built, in order: (start, end, their helper, or their part, or the error that
        # makes the rest go through write_plan)
        self._building: list[tuple[int, int, Any]] = []
        self._bulk_docs: list[tuple[Path, PlanDocument]] = []  # what the bulk graph holds or will hold
        self._rest: Any = None  # the PlanWriter that goes on once the load left the bulk path
        self._error: BaseException | None = None
        self._queue: queue.Queue[_Command | None] = queue.Queue(maxsize=depth)
        # The engine rewrites its log as it grows, each time writing out the whole graph so far: eight or
        # nine times in a national load, on the CPUs the load needs. The bulk graph needs no rewrite
        # (nobody sees it before the swap, and a crash leaves it as garbage): none until the load's end.
        # 0 already: another first load runs, and puts its setting back itself.
        self._rewrite_setting: int | None = None
        self._thread = threading.Thread(target=self._send, name="pokin-bulk-writer", daemon=True)
        try:
            self._rewrite_setting = self.engine.auto_rewrite(0) or None
            self._thread.start()
        except BaseException:
            self._restore_rewrites()
            raise
        _OWN_KEYS.add(self.key)  # (its graph is made by the first command, after this)

    def _index_queries(self) -> list[str]:
        return [q.text for n, q in sorted(self.store.queries.items()) if n.startswith("create_index_")]

    def _restore_rewrites(self) -> None:
        if self._rewrite_setting is not None:
            self.engine.auto_rewrite(self._rewrite_setting)
            self._rewrite_setting = None

    def _send(self) -> None:
        while (cmd := self._queue.get()) is not None:
            if self._error is not None:
                continue
            t = time.perf_counter()
            try:
                self.engine.bulk(cmd.args(self.key, begin=self.commands == 0))
                self.commands += 1
                if self.commands == 1:
                    # The store's indexes, once the first command has made the graph: the engine keeps
                    # them as the later commands add nodes, so no index is built from scratch at the end.
                    self.engine.index_graph(self.key, self._index_queries())
                self.engine_s += time.perf_counter() - t
                for f, d in cmd.docs:
                    self.written.append({"id": d.plan.id, "file": str(f), "elements": len(d.elements)})
                    if self.progress:
                        self.progress(d.plan.id, len(self.written), self.total)
            except PokinError as e:  # handed to the caller's thread, naming the plans; this thread drains the queue
                first, last = cmd.docs[0], cmd.docs[-1]
                kind = type(e) if type(e) in (PokinError, QueryError, GraphUnavailable) else PokinError
                self._error = kind(f"{e} (writing plans {first[1].plan.id} ... {last[1].plan.id}, from {first[0]})")
            except BaseException as e:
                self._error = e

    def add(self, docs: Iterable[tuple[Path, PlanDocument]]) -> None:
        if self._rest is not None:
            self._rest.add(docs)
            return
        start = len(self._docs)
        self._docs.extend(docs)  # all of them first: helpers forked now know them all
        for i in range(start, len(self._docs)):
            n = len(self._docs[i][1].elements)
            if i > self._batch_start and (i - self._batch_start >= MAX_BATCH_PLANS or self._size + n > COMMAND_ELEMENTS):
                self._flush(i)
                if self._rest is not None:  # the plans before i went to it already
                    self._rest.add(self._docs[i:])
                    return
            self._size += n

    def _flush(self, end: int, last: bool = False) -> None:
        """Start building documents [batch start, end) (in a free helper, after waiting for the oldest
        if none is free; here without helpers, or for a load of one batch), then send what is built,
        in order."""
        start, self._batch_start, self._size = self._batch_start, end, 0
        if start == end:
            return
        if self._error is not None:
            raise self._error
        t = time.perf_counter()
        try:
            if not self.helpers or (last and not self._building):
                try:
                    built: Any = part(self._docs[start:end])
                except NeedsStatements as e:
                    built = e
                self._building.append((start, end, built))
                self._drain(wait_for=1)
                return
            while len(self._building) >= self.helpers:
                self._drain(wait_for=1)
                if self._rest is not None:  # left the bulk path, with this batch
                    return
            self._building.append((start, end, _Helper(self._docs[start:end])))
            self._drain(wait_for=0)
        finally:
            self.build_s += time.perf_counter() - t

    def _drain(self, wait_for: int | None) -> None:
        """Send the commands of built batches, in order: of the first `wait_for` (waiting for their
        helpers; None: all), and after them of those whose helpers are done. A batch that cannot go
        through the bulk format sends it and every later one to write_plan."""
        building = self._building
        try:
            while building:
                start, end, built = building[0]
                if isinstance(built, _Helper):
                    if (wait_for is not None and wait_for <= 0) and not built.done():
                        return
                    try:
                        built = built.result()
                    except NeedsStatements as e:
                        built = e
                    building[0] = (start, end, built)
                if isinstance(built, Exception):
                    break
                batch = self._docs[start:end]
                try:
                    cmd = self.graph.command(batch, built)
                except NeedsStatements:
                    break
                building.pop(0)
                if wait_for is not None:
                    wait_for -= 1
                self._bulk_docs.extend(batch)
                self._queue.put(cmd)
        except BaseException:
            self._stop_helpers()
            raise
        if building:  # stopped at a batch the bulk format cannot take
            first = building[0][0]
            self._stop_helpers()
            self._go_on_as_statements(self._docs[first:self._batch_start])

    def _stop_helpers(self) -> None:
        """Wait for the helpers still running (their results unused)."""
        for _, _, built in self._building:
            if isinstance(built, _Helper):
                with contextlib.suppress(Exception):
                    built.result()
        self._building = []

    def _stop_sender(self) -> None:
        """Wait for every command queued; the sender ends (it is not started again)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _go_on_as_statements(self, pending: list[tuple[Path, PlanDocument]]) -> None:
        """Swap in what the bulk graph holds, then write `pending` and every later plan as statements."""
        self._end_bulk()
        self._statements().add(pending)

    def _end_bulk(self) -> None:
        """Send what is queued and swap the bulk graph in; if the store is no longer empty, the whole
        load goes through write_plan instead."""
        self._stop_sender()
        if not self._finish_bulk():
            self.written.clear()
            self._statements().add(self._bulk_docs)

    def _statements(self) -> Any:
        """The PlanWriter that goes on once the load left the bulk path (made once); its progress counts
        on from the plans written so far."""
        from service.loading import PlanWriter

        if self._rest is None:
            done, progress = len(self.written), self.progress
            self._rest = PlanWriter(self.store, progress and (lambda p, n, t: progress(p, done + n, t)), self.total,
                                    compact=False)
        return self._rest

    def _finish_bulk(self) -> bool:
        """Index the bulk graph and swap it in; False (bulk graph dropped) if the store is not empty."""
        t = time.perf_counter()
        try:
            if self._error is not None:
                raise self._error
            if not self.commands:
                return True
            self.engine.index_graph(self.key, [])  # created after the first command; wait until filled
            if self.engine.swap_in(self.key):
                return True
            self.engine.drop_graph(self.key)
            return False
        except BaseException:
            self.engine.drop_graph(self.key)
            raise
        finally:
            _OWN_KEYS.discard(self.key)
            self._restore_rewrites()
            self.finish_s += time.perf_counter() - t

    def close(self) -> list[dict[str, Any]]:
        """Send what is left, index the bulk graph and swap it in (or finish as statements), compact."""
        try:
            if self._rest is None:
                self._flush(len(self._docs), last=True)
            if self._rest is None:
                self._drain(wait_for=None)
                self._stop_helpers()
        except BaseException:
            self._abandon()
            raise
        if self._rest is None:
            self._end_bulk()
        if self._rest is not None:
            self.written.extend(self._rest.close())
        if self.compact:
            self.store.compact()
        return self.written

    def _abandon(self) -> None:
        """After an error: stop helpers and sender, drop the bulk graph (nothing of it was visible)."""
        self._stop_helpers()
        if self._rest is not None:
            self._rest.__exit__(RuntimeError)
            return
        self._stop_sender()
        try:
            self.engine.drop_graph(self.key)
        finally:
            _OWN_KEYS.discard(self.key)
            self._restore_rewrites()

    def __enter__(self) -> BulkWriter:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abandon()


def stale_key(key: str, graph: str) -> bool:
    """A bulk graph left by a process that died during a load: its pid no longer runs, or is this
    process's and the key is none of its writers'."""
    from service.embedded import _pid_alive

    rest = key.removeprefix(f"{graph}.{KEY_PREFIX}")
    pid = rest.split("-", 1)[0]
    if rest == key or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return key not in _OWN_KEYS
    return not _pid_alive(int(pid))


def drop_stale(store: GraphStore) -> None:
    """Drop the bulk graphs of loads whose process died; when no load runs any more, turn the engine's
    own log rewrites back on if such a load left them off."""
    engine = store.engine
    live = False
    for key in engine.keys(f"{engine.graph_name}.{KEY_PREFIX}*"):
        if stale_key(key, engine.graph_name):
            engine.drop_graph(key)
        else:
            live = True
    if not live and not _OWN_KEYS and engine.auto_rewrite_setting() == 0:
        engine.auto_rewrite(REWRITE_DEFAULT)


def can_bulk(store: GraphStore) -> bool:
    """The embedded engine, and a store without any node (a first load)."""
    engine = getattr(store, "engine", None)
    if not hasattr(engine, "bulk"):
        return False
    try:
        drop_stale(store)
        return engine.is_empty()
    except PokinError:
        return False
