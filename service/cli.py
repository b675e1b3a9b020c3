"""The `pokin` command line: the same operations as the API."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from service.config import Settings
from service.errors import InvalidPlan, PokinError, QueryError
from service.store import GraphStore, open_store

T = TypeVar("T")

app = typer.Typer(help="pokin: explore pohon kinerja cascades as a graph. Start with `pokin serve --load seed` "
                       "(the web explorer) or `pokin plans`.", no_args_is_help=True, add_completion=False)



class Format(StrEnum):
    table = "table"
    json = "json"


class CheckFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table or json", case_sensitive=False)]


@contextmanager
def _store() -> Iterator[GraphStore]:
    store = open_store(Settings())
    try:
        yield store
    finally:
        store.close()


def _with_store(fn: Callable[[GraphStore], T]) -> T:
    """Open the store, run fn, close the store; a pokin error ends the command with its message."""
    try:
        with _store() as store:
            return fn(store)
    except PokinError as e:
        _fail(e)
        raise  # unreachable: _fail exits


def _fail(err: PokinError) -> NoReturn:
    if isinstance(err, InvalidPlan):
        typer.echo(f"error: {len(err.problems)} problem(s); nothing was written", err=True)
        for p in err.problems:
            typer.echo(f"  {p}", err=True)
    else:
        typer.echo(f"error: {err}", err=True)
    # 2 for what the user asked wrongly (an invalid file, an unknown rule or scale), as typer's own usage
    # errors; 1 for the rest, the code `pokin check --fail-on` also ends with when it finds something
    raise typer.Exit(2 if isinstance(err, (InvalidPlan, QueryError)) else 1)


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _rupiah(v: int | None) -> str:
    from service.values import format_rupiah

    return format_rupiah(v) if v is not None else "-"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    load: Annotated[list[Path] | None, typer.Option("--load", help="plan files or folders to load first")] = None,
    workers: Annotated[int, typer.Option(min=1, help="server processes; they share one graph store, whose engine gets "
                                                     "the CPUs they leave (see POKIN_ENGINE_THREADS)")] = 1,
) -> None:
    """Run the web explorer and JSON API."""
    import uvicorn

    from service.embedded import default_threads
    from service.main import serve_app

    if workers > 1:  # one CPU per server process, the rest to the engine this one starts (unless set)
        os.environ.setdefault("POKIN_ENGINE_THREADS", str(default_threads(processes=workers)))

    if load:
        try:
            with _store() as store:
                from service.loading import load_paths

                written = load_paths(store, load)
                typer.echo(f"loaded {len(written)} plan(s): {', '.join(w['id'] for w in written)}")
        except PokinError as e:
            _fail(e)
    typer.echo(f"pokin explorer on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    if workers == 1:
        uvicorn.run(serve_app(), host=host, port=port, log_level="info")
        return
    # Several processes: this one opens the store first, so the embedded engine belongs to the process
    # that outlives the workers (each worker reuses it; a worker that dies takes nothing down with it).
    try:
        with _store():
            uvicorn.run("service.main:serve_app", factory=True, host=host, port=port, workers=workers, log_level="info")
    except PokinError as e:
        _fail(e)


@app.command()
def load(paths: Annotated[list[Path], typer.Argument(help="plan files (.yaml) or folders of them")]) -> None:
    """Validate plan files and load them; nothing is written if any file is invalid."""
    from service.loading import detached_references, load_paths

    def run(store: GraphStore) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        written = load_paths(store, paths, progress=_progress_bar())
        return written, detached_references(store, [w["id"] for w in written])

    written, detached = _with_store(run)
    for w in written:
        typer.echo(f"loaded {w['id']}: {w['elements']} elements from {w['file']}")
    for d in detached:
        typer.echo(f"warning: {d['plan']}/{d['element']} names parent {d['parent']}, which this load no longer has: "
                   "it is not linked until an element of that id is loaded again", err=True)


def _progress_bar():
    """A one-line progress bar on a terminal; silent when output is piped."""
    if not sys.stderr.isatty():
        return None

    def show(plan_id: str, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {plan_id[:40]:<40}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


@app.command()
def plans(fmt: FormatOpt = Format.table) -> None:
    """List the loaded plans with their counts per level and total anggaran."""
    from service.plans import list_plans

    rows = _with_store(list_plans)
    if fmt == "json":
        _json([r.model_dump() for r in rows])
        return
    if not rows:
        typer.echo("no plans loaded; try: pokin load seed/")
        return
    header = (f"{'id':<24} {'tahun':>5} {'tuj':>3} {'sas':>3} {'prog':>4} {'keg':>4} {'sub':>4} {'ind':>4} {'jab':>3} "
              f"{'anggaran':>22}  perangkat daerah")
    typer.echo(header)
    for r in rows:
        c = r.counts
        typer.echo(f"{r.id:<24} {r.tahun or '-':>5} {c['tujuan']:>3} {c['sasaran']:>3} {c['program']:>4} {c['kegiatan']:>4} "
                   f"{c['sub_kegiatan']:>4} {c['indikator']:>4} {c['jabatan']:>3} {_rupiah(r.anggaran_total):>22}  "
                   f"{r.perangkat_daerah}, {r.pemda}")


@app.command()
def tree(plan: Annotated[str, typer.Argument(help="plan id")], fmt: FormatOpt = Format.table) -> None:
    """Print every element of a plan with its parents, indikator, anggaran and jabatan."""
    from service.plans import get_tree

    t = _with_store(lambda store: get_tree(store, plan))
    if fmt == "json":
        _json({"plan": t.plan.model_dump(), "elements": [e.model_dump(mode="json") for e in t.elements]})
        return
    children: dict[str, list[str]] = {}
    by_id = {e.id: e for e in t.elements}
    roots = []
    for e in t.elements:
        local = [p for p in e.parents if p in by_id]
        if not local:
            roots.append(e.id)
        for p in local:
            children.setdefault(p, []).append(e.id)
    typer.echo(f"{t.plan.id}: {t.plan.perangkat_daerah}, {t.plan.pemda} {t.plan.tahun or ''}")

    shown: dict[str, str | None] = {}  # element -> the parent it was printed under: each element once

    def show(eid: str, depth: int, parent: str | None) -> None:
        e = by_id[eid]
        pad = "  " * depth
        if eid in shown:  # a second parent: a pointer, not its subtree again
            typer.echo(f"{pad}- {e.level} {eid}: also under {shown[eid]}, shown there")
            return
        shown[eid] = parent
        money = f"  [{e.anggaran['raw']}]" if e.anggaran.get("raw") else ""
        cross = [p for p in e.parents if p not in by_id]
        extra = f"  -> {', '.join(cross)}" if cross else ""
        owners = f"  ({', '.join(e.jabatan)})" if e.jabatan else ""
        typer.echo(f"{pad}- {e.level} {eid}: {e.statement}{money}{owners}{extra}")
        for ind in e.indikator:
            tgt = ", ".join(f"{y}: {n.raw}" for y, n in sorted(ind.target.items()))
            typer.echo(f"{pad}    · {ind.name}{' (' + tgt + ')' if tgt else ''}")
        for c in children.get(eid, []):
            show(c, depth + 1, eid)

    for r in roots:
        show(r, 0, None)
    for e in t.elements:  # on a cycle only (the loader refuses them): never reached from a root
        if e.id not in shown:
            show(e.id, 0, None)


@app.command()
def trace(
    plan: Annotated[str, typer.Argument(help="plan id")],
    node: Annotated[str, typer.Argument(help="element id (or other-plan/element)")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Every path from an element up to the tujuan (across plans), and the subtree below it."""
    from service.alignment import trace as do_trace

    t = _with_store(lambda store: do_trace(store, plan, node))
    if fmt == "json":
        _json(t.model_dump())
        return
    for n, path in enumerate(t.paths, 1):
        typer.echo(f"path {n}:")
        for depth, step in enumerate(path):
            where = "" if step.plan == plan else f"  [{step.plan}]"
            typer.echo(f"{'  ' * depth}{step.level}: {step.statement}{where}")
            for ind in step.indikator:
                tgt = ", ".join(f"{y}: {v}" for y, v in ind["target"].items())
                typer.echo(f"{'  ' * depth}  · {ind['name']}{' (' + tgt + ')' if tgt else ''}")
    if not t.paths or t.reaches != ["tujuan"]:
        typer.echo(f"note: does not reach a tujuan (tops reached: {', '.join(t.reaches) or 'none'})")
    typer.echo(f"below: {len(t.subtree)} element(s)")
    for s in t.subtree:
        budget = "" if s.pagu is None else (f"  [{_rupiah(s.pagu)}]" if s.anggaran_wellformed is not False
                                            else f"  [written '{s.anggaran_raw}', malformed]")
        typer.echo(f"  {s.level}: {s.statement}{budget}")


@app.command()
def impact(
    plan: Annotated[str, typer.Argument(help="plan id")],
    cut: Annotated[list[str], typer.Option("--cut", help="element id to cut; repeat for several")],
    fmt: FormatOpt = Format.table,
) -> None:
    """What if these elements are cut: what falls, which sasaran lose support, how much budget moves."""
    from service.impact import impact as do_impact

    r = _with_store(lambda store: do_impact(store, plan, cut))
    if fmt == "json":
        _json(r.model_dump())
        return
    levels = ", ".join(f"{n} {lvl.replace('_', ' ')}" for lvl, n in r.removed.counts.items() if n)
    guessed = "".join(f" (includes {m['id']} written '{m['raw']}', malformed)" for m in r.removed.malformed)
    typer.echo(f"cut {', '.join(r.cut)}: removes {levels or 'nothing'}, {r.removed.indikator} indikator; "
               f"anggaran {_rupiah(r.removed.anggaran)}{guessed}")
    for a in r.unsupported:
        typer.echo(f"LEFT WITHOUT SUPPORT  {a.level}: {a.statement}")
    for a in r.affected:
        typer.echo(f"loses {len(a.lost)} contributor(s), keeps {len(a.remaining)}  {a.level}: {a.statement}")
    for i in r.indikator_unsupported:
        typer.echo(f"indikator without activity: {i['indikator']} ({i['element']})")
    for j in r.jabatan_affected:
        roles = ", ".join(f"{k}: {', '.join(v)}" for k, v in j.items() if k in ("removed", "unsupported", "loses_contributors") and v)
        typer.echo(f"jabatan {j['name']}: {roles}")
    for s in r.sasaran_anggaran:
        if s["moved"]:
            typer.echo(f"sasaran {s['id']}: {_rupiah(s['before'])} -> {_rupiah(s['after'])}")
        for x in s.get("exceeds", ()):
            typer.echo(f"  {x['id']} counts {_rupiah(x['pagu'])}, less than the {_rupiah(x['removed_below'])} removed "
                       f"below it (its figures do not add up: see the checks budget_rollup and malformed_rupiah): "
                       f"{_rupiah(x['pagu'])} moved")


@app.command()
def check(
    plan: Annotated[list[str] | None, typer.Argument(help="plan id(s)", show_default=False)] = None,
    pemda: Annotated[str | None, typer.Option("--pemda", help="check every loaded plan of this pemda, e.g. "
                                              "'Kabupaten Buleleng'")] = None,
    fmt: Annotated[CheckFormat, typer.Option("--format", "-f", help="table, json or csv", case_sensitive=False)] = CheckFormat.table,
    fail_on: Annotated[str | None, typer.Option("--fail-on", help="exit 1 when findings of this severity (or worse) exist: "
                                                "error or warning")] = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="run only this rule; repeat for several")] = None,
) -> None:
    """Check plans: orphans, dead ends, indikator, targets, budget roll-ups, codes, jabatan, capaian.

    Several plans (or a whole --pemda) are checked together, one query per rule for all of them.
    """
    from service.checks import SEVERITY_ORDER, config_from_settings, plans_of_pemda, run_checks_many, to_csv

    if fail_on not in (None, "error", "warning"):
        typer.echo("error: --fail-on takes error or warning", err=True)
        raise typer.Exit(2)
    if not plan and not pemda:
        typer.echo("error: name a plan id (or several), or --pemda NAME", err=True)
        raise typer.Exit(2)

    def run(store: GraphStore) -> list[Any]:
        ids = list(plan or []) + (plans_of_pemda(store, pemda) if pemda else [])
        return run_checks_many(store, ids, config_from_settings(Settings()), only=rule)

    reports = _with_store(run)
    single = len(reports) == 1 and not pemda
    if fmt == "json":
        out = [{"plan": r.plan, "findings": [f.model_dump() for f in r.findings]} for r in reports]
        _json(out[0] if single else {"pemda": pemda, "reports": out})
    elif fmt == "csv":
        typer.echo(to_csv(reports), nl=False)
    else:
        for report in reports:
            for f in report.findings:
                where = ", ".join(f.node_ids) if single else f"{report.plan}: {', '.join(f.node_ids)}"
                typer.echo(f"{f.severity:<7} {f.rule:<20} {where[:60]:<60} {f.message}")
        for report in reports:
            c = report.counts()
            typer.echo(f"{report.plan}: {c['error']} error(s), {c['warning']} warning(s), {c['info']} info")
    findings = [f for r in reports for f in r.findings]
    if fail_on and any(SEVERITY_ORDER[f.severity] >= SEVERITY_ORDER[fail_on] for f in findings):
        raise typer.Exit(1)


@app.command()
def capaian(
    plan: Annotated[str, typer.Argument(help="plan id")],
    fmt: FormatOpt = Format.table,
    scale: Annotated[str | None, typer.Option(help="predikat scale, e.g. permendagri86 or buleleng_lkjip_2023")] = None,
    negatif_formula: Annotated[str | None, typer.Option(
        help="capaian of a negatif indikator: 2t_minus_r ((2T - R) / T x 100) or t_over_r (T / R x 100)")] = None,
) -> None:
    """Capaian per indikator and year by polaritas, predikat, roll-up, and the capaian the document reported."""
    from service import capaian as cap
    from service.plans import get_tree
    from service.values import format_number

    settings = Settings()
    try:
        config = cap.load_config(settings.pokin_capaian_config)
        try:
            config = cap.chosen(config, scale, negatif_formula)
        except QueryError as e:  # a wrong option, as typer reports its own: exit 2
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from e
        with _store() as store:
            tree = get_tree(store, plan)
        report = cap.plan_capaian(tree, config)
    except PokinError as e:
        _fail(e)
    if fmt == "json":
        _json(report.model_dump(mode="json"))
        return
    def num(x: float | None) -> str:
        return "-" if x is None else format_number(x)

    if not report.indikator:
        indikator = [i for e in tree.elements for i in e.indikator]
        typer.echo(f"no capaian yet: no indikator of {plan} has a target and a realisasi for the same year "
                   f"({len(indikator)} indikator, {sum(1 for i in indikator if i.target)} with a target, "
                   f"{sum(1 for i in indikator if i.realisasi)} with a realisasi)")
        _echo_keuangan(report, tree, num)
        return

    typer.echo(f"{'year':<5} {'indikator':<60} {'target':>10} {'realisasi':>10} {'pol':<8} {'capaian':>9} {'reported':>9}  predikat")
    for r in report.indikator:
        flags = f"  [{', '.join(r.flags)}]" if r.flags else ""
        typer.echo(f"{r.year:<5} {r.name[:60]:<60} {r.target.raw:>10} {r.realisasi.raw:>10} {r.polaritas:<8} "
                   f"{num(r.capaian):>9} {num(r.reported):>9}  {r.predikat or '-'}{flags}")
    how = {"mean": "each element the mean of its own indikator, or else of the elements below it",
           "indicator_mean": "each element the mean of every indikator below it"}.get(report.config.get("aggregate", ""), "")
    typer.echo(f"roll-up ({report.scale}{'; ' + how if how else ''}):")
    for e in report.elements:
        typer.echo(f"{e.year:<5} {e.level:<12} {num(e.mean):>9} (capped {num(e.mean_capped)}), {e.n} indikator below it, "
                   f"{e.below_100} under 100  {e.predikat or '-'}  {e.statement[:60]}")
    _echo_keuangan(report, tree, num)


def _echo_keuangan(report: Any, tree: Any, num: Callable[[float | None], str]) -> None:
    """The realisasi anggaran table of a capaian report (nothing when no element has a realisasi), the rows
    under the sasaran they support."""
    from service.capaian import keuangan_groups

    if not report.keuangan:
        return
    typer.echo("realisasi anggaran (capaian keuangan = realisasi / pagu x 100; kinerja: the capped roll-up):")
    typer.echo(f"{'level':<12} {'pagu':>18} {'realisasi':>18} {'keuangan':>9} {'kinerja':>9}  statement")
    statements = {e.id: e.statement for e in tree.elements}
    kinerja = {e.element_id: e.mean_capped for e in report.elements if e.year == tree.plan.tahun}
    total = [k for k in report.keuangan if k.element_id is None]
    for sasaran, rows in keuangan_groups(report.keuangan):
        for sid in sasaran:
            typer.echo(f"{'sasaran':<12} {'':>18} {'':>18} {'':>9} {num(kinerja.get(sid)):>9}  {statements[sid][:60]}")
        for k in rows:
            _echo_keuangan_row(k, num)
    for k in total:
        _echo_keuangan_row(k, num)


def _echo_keuangan_row(k: Any, num: Callable[[float | None], str]) -> None:
    from service.values import format_number

    flags = f"  [{', '.join(k.flags)}]" if k.flags else ""
    pagu = "-" if k.pagu is None else format_number(k.pagu, trim=True)
    typer.echo(f"{k.level:<12} {pagu:>18} {format_number(k.realisasi, trim=True):>18} {num(k.capaian_keuangan):>9} "
               f"{num(k.capaian_kinerja):>9}  {k.statement[:60]}{flags}")


@app.command()
def render(
    plan: Annotated[str, typer.Argument(help="plan id")],
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write")],
    view: Annotated[str, typer.Option(help="pohon, distribusi or jabatan")] = "pohon",
    jabatan: Annotated[str | None, typer.Option(help="jabatan id for --view jabatan")] = None,
    cut: Annotated[list[str] | None, typer.Option("--cut", help="what-if overlay: element to cut; repeat")] = None,
    checks: Annotated[bool, typer.Option("--checks", help="mark check findings")] = False,
    collapse: Annotated[str | None, typer.Option(help="hide levels below this one (e.g. kegiatan)")] = None,
    sasaran: Annotated[str | None, typer.Option(help="draw only this sasaran's branch")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="svg, png or pdf (default: from the file name)")] = None,
) -> None:
    """Draw a plan with Graphviz: the pohon kinerja, the distribution to jabatan, or one jabatan's cascade."""
    from service.values import format_number
    from viz.diagrams import render as do_render
    from viz.service import diagram

    fmt = fmt or output.suffix.lstrip(".").lower() or "svg"
    try:
        with _store() as store:
            graph = diagram(store, plan, view, jabatan=jabatan, cut=cut, checks=checks, collapse=collapse, sasaran=sasaran)
        data = do_render(graph, fmt)
    except PokinError as e:
        _fail(e)
    try:
        output.write_bytes(data)
    except OSError as e:  # a folder that does not exist, a folder given as the file, no permission
        typer.echo(f"error: cannot write {output}: {e.strerror or e}", err=True)
        raise typer.Exit(1) from e
    typer.echo(f"wrote {output} ({fmt}, {format_number(len(data), trim=True)} bytes)")


@app.command()
def query(
    name: Annotated[str, typer.Argument(help="query name (a file in cypher/ without .cypher)")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value; value parsed as JSON when it can be")] = None,
    write: Annotated[bool, typer.Option("--write", help="allow a query that changes the store (delete_plan, ...)")] = False,
) -> None:
    """Run any named query (power users); prints the rows as JSON. Queries that change the store need --write."""
    params: dict[str, Any] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            typer.echo(f"error: --param expects key=value, got {item!r}", err=True)
            raise typer.Exit(2)
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    def run(store: GraphStore) -> list[dict[str, Any]]:
        known = store.queries.get(name)
        if known is not None and known.write and not write:
            # deleting a plan this way skips what pokin load and the API check (another plan's parents in it)
            raise QueryError(f"query {name!r} changes the store: add --write to run it")
        return store.query(name, **params)

    _json(_with_store(run))


@app.command()
def queries() -> None:
    """List the named queries with what each returns."""
    from service.store import load_queries

    for q in load_queries().values():
        kind = "write" if q.write else "read"
        params = ", ".join(sorted(q.params)) or "-"
        typer.echo(f"{q.name:<32} {kind:<5} params: {params}\n    {q.description}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
