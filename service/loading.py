"""Turn validated plan documents into graph rows and write them, one atomic statement per plan."""

from __future__ import annotations

import gc
import json
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from seed.loader import read_plans
from service.errors import InvalidPlan, PlanProblem
from service.models import Element, Indikator, Nilai, PlanDocument
from service.nomenklatur import LEVEL_ABOVE, certified, reference_version
from service.store import GraphStore, Prepared
from service.values import text_key


def uid(plan_id: str, local_id: str) -> str:
    """Global id of an element or jabatan; the same form as a cross-plan parent reference."""
    return f"{plan_id}/{local_id}"


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """Drop None values: neither engine stores null properties."""
    return {k: v for k, v in row.items() if v is not None}


_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(x, ensure_ascii=False), without a new encoder per call
_jstr = json.encoder.encode_basestring  # a str as JSON text (ensure_ascii=False), quotes included


def _jnum(v: Any) -> str:
    """A float as json.dumps writes it (repr; NaN and the infinities as JavaScript names)."""
    if type(v) is float and math.isfinite(v):
        return float.__repr__(v)
    return _json(v)


def _nilai_text(n: Nilai) -> str:
    """json.dumps of n.model_dump(exclude_defaults=True) (raw first, then what differs from the
    defaults), written out: the loader calls it for every target and realisasi, a million times at
    national scale, and building dicts for the encoder was most of its cost."""
    text = '{"raw": ' + (_jstr(n.raw) if type(n.raw) is str else _json(n.raw))
    if n.value is not None:
        text += ', "value": ' + _jnum(n.value)
    if n.lo is not None:
        text += ', "lo": ' + _jnum(n.lo)
    if n.hi is not None:
        text += ', "hi": ' + _jnum(n.hi)
    if n.unit != "":
        text += ', "unit": ' + (_jstr(n.unit) if type(n.unit) is str else _json(n.unit))
    if n.wellformed is not True:
        text += ', "wellformed": ' + _json(n.wellformed)
    return text + "}"


def _years_text(values: dict[int, Nilai]) -> str:
    if not values:
        return "{}"
    return "{" + ", ".join(f'"{year}": {_nilai_text(n)}' for year, n in sorted(values.items())) + "}"


def values_json(ind: Indikator) -> str:
    """The indikator's values by year as JSON text: {"target": {year: nilai}, "realisasi": ..., "capaian": ...}."""
    return ('{"target": ' + _years_text(ind.target) + ', "realisasi": ' + _years_text(ind.realisasi)
            + ', "capaian": ' + _years_text(ind.capaian) + "}")


def indikator_row(plan_id: str, el: Element, k: int, ind: Indikator) -> dict[str, Any]:
    local = ind.id or f"i{k + 1}"
    # No uid or plan of its own: an indikator is always reached through its element (a million
    # indikator carried about 60 MB of both, written, snapshotted and decoded at every restart).
    return _clean({
        "id": local,
        "seq": k,
        "name": ind.name,
        "name_key": text_key(ind.name),
        "satuan": ind.satuan,
        "polaritas": ind.polaritas.value if ind.polaritas else None,
        "formula": ind.formula,
        "sumber_data": ind.sumber_data,
        "tipe": ind.tipe,
        "notes": ind.notes,
        "source_line": ind.source.line if ind.source else None,
        "has_target": bool(ind.target),
        "target_years": sorted(ind.target) or None,
        # for the checks' queries: how many realisasi (capaian needs one), the units of satuan and targets
        "n_realisasi": len(ind.realisasi),
        "units": sorted({u for u in [ind.satuan or "", *(n.unit or "" for n in ind.target.values())] if u.strip()}) or None,
        # Per-year values keep raw text and parsed form; Neo4j stores no maps, so they travel as JSON.
        "values_json": values_json(ind),
    })


def element_row(plan_id: str, seq: int, el: Element) -> dict[str, Any]:
    a = el.anggaran
    return _clean({
        "uid": uid(plan_id, el.id),
        "plan": plan_id,
        "id": el.id,
        "seq": seq,
        "level": el.level.value,
        "statement": el.statement,
        "nomenklatur_name": el.nomenklatur.name if el.nomenklatur else None,
        "code": el.nomenklatur.code if el.nomenklatur else None,
        "pagu": a.pagu if a else None,
        "anggaran_raw": a.raw if a else None,
        "anggaran_wellformed": a.wellformed if a and a.raw is not None else None,
        "anggaran_versi": a.versi if a else None,
        "realisasi_anggaran": a.realisasi if a else None,
        "realisasi_raw": a.realisasi_raw if a else None,
        "realisasi_wellformed": a.realisasi_wellformed if a and a.realisasi_raw is not None else None,
        "source_line": el.source.line if el.source else None,
        "source_section": el.source.section if el.source else None,
        "notes": el.notes,
        "absent": sorted(a.value for a in el.absent) or None,
    })


LEVEL_KEYS = ("tujuan", "sasaran", "program", "kegiatan", "sub_kegiatan")


def plan_params(doc: PlanDocument) -> dict[str, Any]:
    """The parameters of write_plan for one document."""
    m = doc.plan
    pid = m.id
    meta = m.model_dump(mode="json")
    meta["absent"] = meta["absent"] or None  # stored only where a document says so
    # each element's absent aspects on the plan too ("id|aspect,aspect"): the checks read them per plan, not
    # per element (a scan of a kabupaten's 5,000 elements for them cost 6.7 ms of a check)
    meta["absent_elements"] = [f"{el.id}|{','.join(sorted(a.value for a in el.absent))}"
                               for el in doc.elements if el.absent] or None
    # when this version was written: lets readers cache what they derive from a plan (e.g. check counts)
    meta["loaded_at"] = datetime.now(UTC).isoformat(timespec="microseconds")
    # what the plans page searches, lower-cased once here instead of for every plan at every search
    meta["search_text"] = " ".join(x for x in (m.id, m.pemda, m.perangkat_daerah, m.title) if x).lower()
    # Flat lists: element properties per level (each level has its label), indikator properties, and
    # positions as lists of integers: indikator, edges and owners name their element (its seq in the
    # plan) and jabatan (its seq) by position; merge_params shifts them when plans share a statement.
    by_level: dict[str, list[dict[str, Any]]] = {lv: [] for lv in LEVEL_KEYS}
    indikator: list[dict[str, Any]] = []
    indikator_of: list[int] = []
    edge_child: list[int] = []
    edge_parent: list[int] = []
    owner_element: list[int] = []
    owner_jabatan: list[int] = []
    crossrefs = []
    seq_of = {el.id: seq for seq, el in enumerate(doc.elements)}
    jabatan_seq = {j.id: n for n, j in enumerate(doc.jabatan)}
    rows = [element_row(pid, seq, el) for seq, el in enumerate(doc.elements)]
    version, same_plan = reference_version(), pid + "/"
    for seq, el in enumerate(doc.elements):
        row = rows[seq]
        level, code, name = row["level"], row.get("code"), row.get("nomenklatur_name")
        if code and name:
            above = LEVEL_ABOVE.get(level)
            ups = [r.get("code") for p in el.parents
                   if (k := seq_of.get(p.removeprefix(same_plan))) is not None and (r := rows[k])["level"] == above]
            if certified(code, name, level, ups):
                row["code_ok"] = version  # no code rule can flag it with this version of the list (check_nomenklatur_facts)
        by_level[level].append(row)
        for k, ind in enumerate(el.indikator):
            indikator.append(indikator_row(pid, el, k, ind))
            indikator_of.append(seq)
        for parent in el.parents:
            if "/" in parent:
                crossrefs.append({"plan": pid, "child": uid(pid, el.id), "parent": parent,
                                  "parent_plan": parent.split("/", 1)[0]})
            else:
                edge_child.append(seq)
                edge_parent.append(seq_of[parent])
        for j in el.jabatan:
            owner_element.append(seq)
            owner_jabatan.append(jabatan_seq[j])
    jabatan = [_clean({"uid": uid(pid, j.id), "plan": pid, "id": j.id, "seq": n, "name": j.name, "level": j.level.value,
                       "unit": j.unit, "source_line": j.source.line if j.source else None})
               for n, j in enumerate(doc.jabatan)]
    reports = [{"jabatan": uid(pid, j.id), "atasan": uid(pid, j.atasan)} for j in doc.jabatan if j.atasan]
    meta.update(plan_summary(doc))
    return {
        "plan_ids": [pid],
        "plans": [_clean(meta)],
        "jabatan": jabatan,
        **by_level,
        "indikator": indikator,
        "indikator_of": indikator_of,
        "edge_child": edge_child,
        "edge_parent": edge_parent,
        "owner_element": owner_element,
        "owner_jabatan": owner_jabatan,
        "reports": reports,
        "crossrefs": crossrefs,
    }


def plan_summary(doc: PlanDocument) -> dict[str, int]:
    """Counts per level, indikator and jabatan, and the total anggaran, stored on the Plan node.

    A plan is only ever written whole, so these cannot go stale; reading them keeps the list of
    plans cheap at national scale (summarising 18,000 plans from their elements took 31 s). The total
    is the pagu of budgeted elements without a budgeted ancestor in the plan (programs, where they
    carry a budget), so nothing is counted twice.
    """
    by_id = {e.id: e for e in doc.elements}
    budgeted = {e.id for e in doc.elements if e.anggaran and e.anggaran.pagu is not None}

    def has_budgeted_ancestor(eid: str) -> bool:
        seen: set[str] = set()
        stack = [p for p in by_id[eid].parents if p in by_id]
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            seen.add(p)
            if p in budgeted:
                return True
            stack.extend(q for q in by_id[p].parents if q in by_id)
        return False

    out = {f"n_{level}": sum(1 for e in doc.elements if e.level.value == level)
           for level in ("tujuan", "sasaran", "program", "kegiatan", "sub_kegiatan")}
    out["n_indikator"] = sum(len(e.indikator) for e in doc.elements)
    out["n_jabatan"] = len(doc.jabatan)
    # None, not 0, for a plan that gives no anggaran at all (a pohon kinerja, an IKU): "Rp 0" read as a zero budget
    out["anggaran_total"] = (sum(by_id[e].anggaran.pagu for e in budgeted if not has_budgeted_ancestor(e))  # type: ignore[union-attr, misc]
                             if budgeted else None)
    return out


def _order_by_dependency(docs: list[tuple[Path, PlanDocument]]) -> list[tuple[Path, PlanDocument]]:
    """Plans referenced by others first, so cross-plan edges resolve as each plan is written."""
    by_id = {d.plan.id: (f, d) for f, d in docs}
    done: list[str] = []
    visiting: set[str] = set()

    def visit(pid: str) -> None:
        if pid in done or pid not in by_id or pid in visiting:
            return
        visiting.add(pid)
        for el in by_id[pid][1].elements:
            for parent in el.parents:
                if "/" in parent:
                    visit(parent.split("/", 1)[0])
        visiting.discard(pid)
        done.append(pid)

    for _f, d in docs:
        visit(d.plan.id)
    return [by_id[p] for p in done]


def check_cross_plan(store: GraphStore, docs: list[tuple[Path, PlanDocument]]) -> None:
    """Every "plan/element" parent must name a plan of this batch or of the store, and an element of it.

    Raises:
        InvalidPlan: naming file and field of each unknown reference.
    """
    batch = {d.plan.id: {e.id for e in d.elements} for _, d in docs}
    stored: dict[str, set[str]] = {}
    problems: list[PlanProblem] = []
    for f, d in docs:
        for i, el in enumerate(d.elements):
            for k, parent in enumerate(el.parents):
                if "/" not in parent:
                    continue
                plan_id, local = parent.split("/", 1)
                if plan_id in batch:
                    known = batch[plan_id]
                else:
                    if plan_id not in stored:
                        stored[plan_id] = {r["id"] for r in store.read("list_plan_elements", plan_id=plan_id)}
                    known = stored[plan_id]
                if not known:
                    msg = f"parent plan {plan_id!r} is neither loaded nor in this load"
                elif local not in known:
                    msg = f"plan {plan_id!r} has no element {local!r}"
                else:
                    continue
                problems.append(PlanProblem(str(f), d.parent_line(i, k), f"elements[{i}](id={el.id}).parents[{k}]", msg))
    if problems:
        raise InvalidPlan(problems)


def load_paths(store: GraphStore, paths: Iterable[Path | str],
               progress: Callable[[str, int, int], None] | None = None) -> list[dict[str, Any]]:
    """Validate every file, then write each plan atomically; nothing is written if any file is invalid.

    Returns:
        one summary per plan written: id, file, elements.
    Raises:
        InvalidPlan: any problem in any file (nothing written).
    """
    docs = read_plans(paths)
    # The documents live through the whole load; the collector's full passes over them cost as much as
    # the load itself at national scale (docs/benchmarks.md), so they are kept out of its passes meanwhile.
    # Not where the process froze objects itself (a server after startup): unfreezing would free those too.
    own_freeze = gc.get_freeze_count() == 0
    if own_freeze:
        gc.freeze()
    try:
        check_cross_plan(store, docs)
        return write_documents(store, docs, progress)
    finally:
        if own_freeze:
            gc.unfreeze()


def detached_references(store: GraphStore, plan_ids: list[str]) -> list[dict[str, str]]:
    """Elements of other plans that name a parent in these plans which is not there now (a plan replaced
    without it): {plan, element, parent}, the element local to its plan and the parent as "plan/id".
    Their links come back when an element of that id is loaded again; a load says so rather than keep
    it silent."""
    return [{"plan": r["plan"], "element": r["child"].split("/", 1)[1], "parent": r["parent"]}
            for r in store.read("list_detached_references", plan_ids=plan_ids)]


BATCH_PLANS = 64
BATCH_ELEMENTS = 5_000


# the parameters of write_plan that hold element positions (merge_params shifts them)
ELEMENT_POSITIONS = frozenset({"indikator_of", "edge_child", "edge_parent", "owner_element"})


def merge_params(params: list[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of write_plan for several plans at once (each is still replaced whole).

    Indikator, edges and owners name elements and jabatan by position, and write_plan numbers the nodes
    of all its plans in one sequence (plans in order, then seq): each plan's positions move up by the
    number of elements (jabatan) of the plans before it.
    """
    if len(params) == 1:
        return params[0]
    merged: dict[str, Any] = {key: [] for key in params[0]}
    el_off = jab_off = 0
    for p in params:
        for key, rows in p.items():
            if key in ELEMENT_POSITIONS:
                merged[key].extend(x + el_off for x in rows)
            elif key == "owner_jabatan":
                merged[key].extend(x + jab_off for x in rows)
            else:
                merged[key].extend(rows)
        el_off += sum(len(p[lv]) for lv in LEVEL_KEYS)
        jab_off += len(p["jabatan"])
    return merged



class PlanWriter:
    """Writes plans in batches of whole plans, one statement per batch, and builds the next batch's rows
    while the engine executes the previous statement.

    A sender thread runs the statements in order; the caller's thread turns documents into rows. On two
    cores the engine and Python then work at the same time (docs/benchmarks.md has the split of a
    national load). At most `depth` statements wait, which bounds memory. A batch never splits a
    plan, so every plan is still visible whole or not at all. The first failing statement stops the
    writer: later batches are not sent, and add() or close() raises its error.

        with PlanWriter(store) as w:
            for docs in pemda_by_pemda:
                w.add(docs)            # plans referenced by others must come first
    """

    def __init__(self, store: GraphStore, progress: Callable[[str, int, int], None] | None = None,
                 total: int = 0, depth: int = 2, compact: bool = True):
        self.store, self.progress, self.total, self.compact = store, progress, total, compact
        self.written: list[dict[str, Any]] = []
        self.build_s = 0.0  # time spent turning documents into statements, in the caller's thread
        self._batch: list[tuple[Path, PlanDocument]] = []
        self._size = 0
        self._error: BaseException | None = None
        self._queue: queue.Queue[tuple[Prepared, list[tuple[Path, PlanDocument]]] | None] = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._send, name="pokin-plan-writer", daemon=True)
        self._thread.start()

    def _send(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain: nothing after a failed statement is written
            prepared, batch = item
            try:
                self.store.execute(prepared)
                for f, d in batch:
                    self.written.append({"id": d.plan.id, "file": str(f), "elements": len(d.elements)})
                    if self.progress:
                        self.progress(d.plan.id, len(self.written), self.total)
            except BaseException as e:  # handed to the caller's thread; this thread drains the queue
                self._error = e

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _flush(self) -> None:
        if not self._batch:
            return
        self._raise()
        t = time.perf_counter()
        # rows and statement text are made here, so the sender thread only waits on the engine
        prepared = self.store.prepare("write_plan", expect_write=True, **merge_params([plan_params(d) for _, d in self._batch]))
        self.build_s += time.perf_counter() - t
        self._queue.put((prepared, list(self._batch)))
        self._batch.clear()
        self._size = 0

    def add(self, docs: Iterable[tuple[Path, PlanDocument]]) -> None:
        for f, d in docs:
            if self._batch and (len(self._batch) >= BATCH_PLANS or self._size + len(d.elements) > BATCH_ELEMENTS
                                or any(x.plan.id == d.plan.id for _, x in self._batch)):
                # (a plan twice in one statement would be written twice: write_plan deletes old nodes first)
                self._flush()
            self._batch.append((f, d))
            self._size += len(d.elements)

    def close(self) -> list[dict[str, Any]]:
        """Send what is left, wait for every statement, compact the engine's log; the plans written."""
        try:
            self._flush()
        finally:
            self._queue.put(None)
            self._thread.join()
        self._raise()
        if self.compact:
            self.store.compact()
        return self.written

    def __enter__(self) -> PlanWriter:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.close()
        else:  # the caller failed: stop after what was queued, keep the caller's error
            self._queue.put(None)
            self._thread.join()


def plan_writer(store: GraphStore, progress: Callable[[str, int, int], None] | None = None,
                total: int = 0, compact: bool = True) -> Any:
    """The writer for a load: into an empty embedded store, the bulk endpoint (service.bulk: the whole
    load appears at once); else one write_plan statement per batch of plans (PlanWriter)."""
    from service import bulk

    if bulk.can_bulk(store):
        return bulk.BulkWriter(store, progress, total, compact=compact)
    return PlanWriter(store, progress, total, compact=compact)


def write_documents(store: GraphStore, docs: list[tuple[Path, PlanDocument]],
                    progress: Callable[[str, int, int], None] | None = None, compact: bool = True) -> list[dict[str, Any]]:
    """Write plans in batches of whole plans (one statement per batch), then compact the engine's log
    (unless `compact` is False: the caller does, see GraphStore.compact_after_write).

    A batch never splits a plan, so every plan is visible whole or not at all; plans referenced
    by others come first.
    """
    ordered = _order_by_dependency(docs)
    with plan_writer(store, progress, total=len(ordered), compact=compact) as writer:
        writer.add(ordered)
    return writer.written
