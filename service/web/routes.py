"""The web explorer: server-rendered pages in Indonesian, each with a JSON twin under /api/."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from service import plans as plan_store
from service.checks import CheckReport, codes, config_from_settings, run_checks_many, total_counts
from service.deps import SettingsDep, StoreDep
from service.errors import NotFound
from service.impact import impact
from service.plans import get_jabatan, get_plan, get_tree
from service.store import GraphStore
from service.values import format_number, format_rupiah

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
TEMPLATES.env.filters["rupiah"] = lambda v: format_rupiah(int(v)) if v is not None else "–"
TEMPLATES.env.filters["angka"] = lambda v: "–" if v is None else format_number(v, trim=True)
TEMPLATES.env.filters["pct"] = lambda v: "–" if v is None else f"{format_number(v)} %"

LEVELS = ("tujuan", "sasaran", "program", "kegiatan", "sub_kegiatan")
LEVEL_NAMES = {"tujuan": "Tujuan", "sasaran": "Sasaran strategis", "program": "Program / kondisi antara",
               "kegiatan": "Kegiatan", "sub_kegiatan": "Sub kegiatan"}
LEVEL_SHORT = {"tujuan": "TUJ", "sasaran": "SAS", "program": "PROG", "kegiatan": "KEG", "sub_kegiatan": "SUB"}
KINDS = {"pohon_kinerja": "pohon kinerja", "renstra": "Renstra", "rkt": "RKT", "pk": "perjanjian kinerja", "lkjip": "LKjIP",
         "iku": "IKU", "rpjmd": "RPJMD"}
JABATAN_RANKS = (("kepala_daerah", "Kepala Daerah"), ("kepala_dinas", "Kepala Dinas (JPT Pratama)"),
                 ("eselon_iii", "Eselon III (Administrator)"), ("eselon_iv", "Eselon IV (Pengawas)"),
                 ("jf", "Jabatan Fungsional"), ("pelaksana", "Pelaksana"))

router = APIRouter(include_in_schema=False)


def _page(request: Request, template: str, **context: Any) -> HTMLResponse:
    base = {"level_names": LEVEL_NAMES, "level_short": LEVEL_SHORT, "levels": LEVELS, "kinds": KINDS, "plan": None, "nav": None}
    return TEMPLATES.TemplateResponse(request, template, {**base, **context})


CHECK_CACHE_PLANS = 2_000  # check reports a server process keeps (one version of each plan)


def _reports(request: Request, store: GraphStore, plans: list[Any], settings: Any) -> dict[str, CheckReport]:
    """Check reports of plans, cached per loaded version of each plan (plans are written whole); the
    plans not in the cache are checked together, one query per rule for all of them. The cache keeps
    the latest version of each plan and the plans checked most recently: browsing a national store
    kept every report of every version before."""
    cache: dict[str, tuple[str | None, CheckReport]] = request.app.state.__dict__.setdefault("check_cache", {})
    missing = [p.id for p in plans if p.id not in cache or cache[p.id][0] != p.loaded_at]
    if missing:
        version = {p.id: p.loaded_at for p in plans}
        for report in run_checks_many(store, missing, config_from_settings(settings)):
            cache.pop(report.plan, None)  # re-inserted as the newest
            cache[report.plan] = (version[report.plan], report)
    found = {p.id: cache[p.id][1] for p in plans}
    for oldest in list(cache)[: max(0, len(cache) - CHECK_CACHE_PLANS)]:
        del cache[oldest]
    return found


def _report(request: Request, store: GraphStore, plan_id: str, settings: Any) -> CheckReport:
    """Check report of one plan (see _reports)."""
    return _reports(request, store, [get_plan(store, plan_id)], settings)[plan_id]


PAGE_SIZE = 50


@router.get("/", response_class=HTMLResponse)
def plans_page(request: Request, store: StoreDep, settings: SettingsDep,
               q: Annotated[str, Query(max_length=200)] = "", page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> HTMLResponse:
    # one page read from the store (a national store holds 18,000 plans; reading them all took 0.6 s)
    plans, matching, total = plan_store.plans_page(store, q, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-matching // PAGE_SIZE))
    if page > pages:  # past the end: show the last page
        page = pages
        plans, matching, total = plan_store.plans_page(store, q, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    # findings are counted for the plans shown only (and cached per loaded version of each plan)
    findings = {pid: r.counts() for pid, r in _reports(request, store, plans, settings).items()}
    return _page(request, "plans.html", plans=plans, findings=findings, nav="plans", json_twin="/api/plans", q=q, page=page,
                 pages=pages, total=total, matching=matching)


def _tree_structure(tree: Any) -> tuple[list[str], dict[str, Any], dict[str, list[str]]]:
    """Roots and children by first local parent (an element with several parents appears once)."""
    by_id = {e.id: e for e in tree.elements}
    children: dict[str, list[str]] = {}
    roots = []
    for e in tree.elements:
        local = [p for p in e.parents if p in by_id]
        if local:
            children.setdefault(local[0], []).append(e.id)
        else:
            roots.append(e.id)
    return roots, by_id, children


def _tree_order(tree: Any) -> dict[str, int]:
    """Each element's depth, in depth-first order from the roots, as the tree shows them (each element
    once, under its first parent; elements on a cycle, never reached, are left out)."""
    roots, _, children = _tree_structure(tree)
    depth: dict[str, int] = {}
    stack = [(eid, 0) for eid in reversed(roots)]
    while stack:
        eid, d = stack.pop()
        if eid not in depth:
            depth[eid] = d
            stack.extend((c, d + 1) for c in reversed(children.get(eid, [])))
    return depth


def _detail_context(request: Request, store: GraphStore, plan_id: str, node: str, settings: Any) -> dict[str, Any]:
    from service.api.routes.analysis import node_detail

    detail = node_detail(store, plan_id, node, settings, _report(request, store, plan_id, settings))
    cap_by_ind: dict[str, list[Any]] = {}
    for r in detail.capaian:
        cap_by_ind.setdefault(r.indikator_id, []).append(r)
    jabatan_names = {j.id: j.name for j in get_jabatan(store, plan_id)}
    return {"detail": detail, "cap_by_ind": cap_by_ind, "jabatan_names": jabatan_names, "code": _codes(request, store, plan_id,
                                                                                                         settings).get(node)}


def _codes(request: Request, store: GraphStore, plan_id: str, settings: Any) -> dict[str, str]:
    """Nomenclature codes by element: as written, or resolved from the official list by name."""
    from service.checks import Context

    ctx = Context(store, [plan_id], config_from_settings(settings))
    return {element: v.code for (_, element), v in codes(ctx).items()}


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: str, store: StoreDep, settings: SettingsDep,
              node: Annotated[str | None, Query()] = None) -> HTMLResponse:
    tree = get_tree(store, plan_id)
    roots, by_id, children = _tree_structure(tree)
    context: dict[str, Any] = {"plan": tree.plan, "roots": roots, "by_id": by_id, "children": children, "nav": "plan",
                               "counts": _report(request, store, plan_id, settings).counts(),
                               "codes": _codes(request, store, plan_id, settings), "json_twin": f"/api/plans/{plan_id}/tree"}
    if node and node in by_id:
        context.update(_detail_context(request, store, plan_id, node, settings))
    elif node:  # a stale or mistyped link: the plan, saying the element is not in it (404 for link checkers)
        response = _page(request, "plan.html", missing_node=node, **context)
        response.status_code = 404
        return response
    return _page(request, "plan.html", **context)


@router.get("/plans/{plan_id}/nodes/{node}", response_class=HTMLResponse)
def node_page(request: Request, plan_id: str, node: str, store: StoreDep, settings: SettingsDep,
              fragment: bool = False) -> HTMLResponse:
    tree = get_tree(store, plan_id)
    context = {"plan": tree.plan, **_detail_context(request, store, plan_id, node, settings)}
    if fragment:
        return _page(request, "node.html", **context)
    return plan_page(request, plan_id, store, settings, node)


def _element_names(store: GraphStore, plan_ids: list[str]) -> dict[tuple[str, str], str]:
    """(plan, element id) -> its statement and nomenclature name, for the findings' element links."""
    return {(r["plan"], r["id"]): r["statement"] + (f" ({r['nomenklatur_name']})" if r["nomenklatur_name"] else "")
            for r in store.read("list_element_names", plan_ids=plan_ids)}


def _rule_groups(reports: dict[str, CheckReport]) -> list[dict[str, Any]]:
    """Findings of one or more plans grouped by rule, errors first: each finding as (plan id, finding)."""
    order = {"error": 0, "warning": 1, "info": 2}
    groups = []
    for info in next(iter(reports.values())).rules:
        found = [(pid, f) for pid, r in reports.items() for f in r.findings if f.rule == info.id]
        if found:
            groups.append({"rule": info, "severity": info.severity, "findings": found})
    groups.sort(key=lambda g: (order[g["severity"]], g["rule"].id))
    return groups


@router.get("/plans/{plan_id}/checks", response_class=HTMLResponse)
def checks_page(request: Request, plan_id: str, store: StoreDep, settings: SettingsDep) -> HTMLResponse:
    plan = get_plan(store, plan_id)
    report = _report(request, store, plan_id, settings)
    groups = _rule_groups({plan_id: report})
    clean = [r.id for r in report.rules if not any(f.rule == r.id for f in report.findings)]
    return _page(request, "checks.html", plan=plan, groups=groups, counts=report.counts(), clean_rules=clean, nav="checks",
                 names=_element_names(store, [plan_id]), json_twin=f"/api/plans/{plan_id}/checks")


@router.get("/pemda/{pemda}/checks", response_class=HTMLResponse)
def pemda_checks_page(request: Request, pemda: str, store: StoreDep, settings: SettingsDep) -> HTMLResponse:
    """Every plan of a pemda checked together: counts per plan, findings per rule across the plans."""
    from urllib.parse import quote

    from service.checks import plans_of_pemda

    plans = [get_plan(store, pid) for pid in plans_of_pemda(store, pemda)]
    reports = _reports(request, store, plans, settings)
    groups = _rule_groups(reports)
    counts = total_counts(list(reports.values()))
    rows = [{"plan": p, "counts": reports[p.id].counts()} for p in plans]
    return _page(request, "pemda_checks.html", pemda=pemda, reports=rows, groups=groups, counts=counts, nav="plans",
                 names=_element_names(store, [p.id for p in plans]),
                 json_twin=f"/api/checks?pemda={quote(pemda)}")


@router.get("/plans/{plan_id}/impact", response_class=HTMLResponse)
def impact_page(request: Request, plan_id: str, store: StoreDep,
                cut: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
    tree = get_tree(store, plan_id)
    by_id = {e.id: e for e in tree.elements}
    # every element to choose from, in tree order: a plan without programs (a pohon kinerja of sasaran and
    # sub kegiatan) and a tujuan or sasaran cut from its element page are choices too
    choices = [(by_id[eid], d) for eid, d in _tree_order(tree).items()]
    asked = list(dict.fromkeys(c for c in (cut or []) if c.strip()))
    unknown = [c for c in asked if c not in by_id and "/" not in c]  # said on the page, and left out
    cut = [c for c in asked if c not in unknown]  # "plan/id": another plan's element, which impact() checks
    result = impact(store, plan_id, cut) if cut else None
    query = urlencode([("view", "pohon"), ("collapse", "kegiatan")] + [("cut", c) for c in cut])
    twin = f"/api/plans/{plan_id}/impact?" + urlencode([("cut", c) for c in cut]) if cut else None
    names = {e.id: e.nomenklatur.name or e.statement for e in tree.elements}
    if result:  # elements of other plans ("plan/id": a pemda's sasaran, a dinas below a pemda) by their names
        refs = {x for a in result.affected + result.unsupported for x in (a.id, *a.lost, *a.remaining)}
        refs |= {x for j in result.jabatan_affected for k in ("removed", "unsupported", "loses_contributors") for x in j[k]}
        refs |= {e["id"] for e in result.removed.elements} | {i["element"] for i in result.indikator_unsupported}
        for other in sorted({x.split("/", 1)[0] for x in refs if "/" in x}):
            names.update({f"{other}/{e.id}": e.nomenklatur.name or e.statement for e in get_tree(store, other).elements})
    return _page(request, "impact.html", plan=tree.plan, choices=choices, cut=cut, unknown=unknown, result=result, nav="impact",
                 names=names, other_cuts=[c for c in cut if c not in by_id],
                 diagram_src=f"/api/plans/{plan_id}/diagram.svg?{query}", json_twin=twin)


NEGATIF_FORMULA_NAMES = {"2t_minus_r": "(2T − R) / T × 100", "t_over_r": "T / R × 100"}


@router.get("/plans/{plan_id}/capaian", response_class=HTMLResponse)
def capaian_page(request: Request, plan_id: str, store: StoreDep, settings: SettingsDep,
                 scale: Annotated[str | None, Query(max_length=100)] = None,
                 negatif_formula: Annotated[str | None, Query(max_length=20)] = None) -> HTMLResponse:
    """Capaian per indikator and year, the roll-up per element and for the plan, on a chosen scale."""
    from service import capaian
    from service.capaian import FLAG_WORDS, POLARITAS_SOURCE_WORDS

    config = capaian.chosen(capaian.load_config(settings.pokin_capaian_config), scale, negatif_formula)
    tree = get_tree(store, plan_id)
    report = capaian.plan_capaian(tree, config)
    by_id = {e.id: e for e in tree.elements}
    depth = _tree_order(tree)  # depth first from the roots, as the tree shows them: a sasaran under its tujuan
    order = {eid: k for k, eid in enumerate(depth)}
    years = []
    for year in sorted({r.year for r in report.indikator}):
        rolled = [e for e in report.elements if e.year == year]
        rows = [r for r in report.indikator if r.year == year]
        years.append({
            "year": year,
            "plan": next((e for e in rolled if e.element_id is None), None),
            "elements": sorted((e for e in rolled if e.element_id is not None), key=lambda e: order.get(e.element_id, len(order))),
            "indikator": rows,
            # rows to look at: a flag that is a warning or an error (not e.g. "melampaui target")
            "to_check": sum(1 for r in rows if any(FLAG_WORDS.get(f, ("", "info"))[1] != "info" for f in r.flags)),
        })
    indikator = [i for e in tree.elements for i in e.indikator]
    counts = {"indikator": len(indikator), "target": sum(1 for i in indikator if i.target),
              "realisasi": sum(1 for i in indikator if i.realisasi)}
    keuangan = {"groups": capaian.keuangan_groups(report.keuangan),
                "total": next((k for k in report.keuangan if k.element_id is None), None),
                "kinerja": {e.element_id: e.mean_capped for e in report.elements if e.year == tree.plan.tahun}}
    chosen_scale = config.active_scale
    params = {k: v for k, v in (("scale", scale), ("negatif_formula", negatif_formula)) if v}
    query = f"?{urlencode(params)}" if params else ""
    twin = f"/api/plans/{plan_id}/capaian{query}"
    return _page(request, "capaian.html", plan=tree.plan, report=report, years=years, by_id=by_id, depth=depth, counts=counts,
                 keuangan=keuangan,
                 config=config, scales=config.scales, scale=chosen_scale, scale_gaps=capaian.scale_gaps(chosen_scale),
                 flags=FLAG_WORDS, sources=POLARITAS_SOURCE_WORDS, formulas=NEGATIF_FORMULA_NAMES, nav="capaian",
                 json_twin=twin, downloads={fmt: f"/api/plans/{plan_id}/capaian.{fmt}{query}" for fmt in ("xlsx", "csv")})


@router.get("/plans/{plan_id}/jabatan", response_class=HTMLResponse)
def jabatan_list_page(request: Request, plan_id: str, store: StoreDep) -> HTMLResponse:
    tree = get_tree(store, plan_id)
    jabatan = get_jabatan(store, plan_id)
    by_level: dict[str, list[Any]] = {}
    for j in jabatan:
        by_level.setdefault(j.level, []).append(j)
    unowned = sum(1 for e in tree.elements if not e.jabatan)
    return _page(request, "jabatan_list.html", plan=tree.plan, by_level=by_level, ranks=JABATAN_RANKS, unowned=unowned,
                 nav="jabatan", json_twin=f"/api/plans/{plan_id}/jabatan")


@router.get("/plans/{plan_id}/jabatan/{jabatan_id}", response_class=HTMLResponse)
def jabatan_page(request: Request, plan_id: str, jabatan_id: str, store: StoreDep) -> HTMLResponse:
    tree = get_tree(store, plan_id)
    jabatan = {j.id: j for j in get_jabatan(store, plan_id)}
    if jabatan_id not in jabatan:
        raise NotFound(f"plan {plan_id!r} has no jabatan {jabatan_id!r}")
    j = jabatan[jabatan_id]
    atasan, a = [], j.atasan
    while a and a in jabatan and jabatan[a] not in atasan:
        atasan.append(jabatan[a])
        a = jabatan[a].atasan
    bawahan = [b for b in jabatan.values() if b.atasan == jabatan_id]
    by_id = {e.id: e for e in tree.elements}
    elements = [by_id[e] for e in j.elements if e in by_id]
    return _page(request, "jabatan.html", plan=tree.plan, jab=j, atasan=atasan, bawahan=bawahan, elements=elements, nav="jabatan",
                 level_label=dict(JABATAN_RANKS).get(j.level, j.level), json_twin=f"/api/plans/{plan_id}/jabatan/{jabatan_id}")


@router.get("/load", response_class=HTMLResponse)
def load_page(request: Request, settings: SettingsDep) -> HTMLResponse:
    limit = getattr(settings, "pokin_upload_limit", 2_000_000)
    return _page(request, "load.html", nav="load", writes_enabled=bool(settings.pokin_token), limit_kb=limit // 1000,
                 json_twin="/docs#/plans")

