"""Checks: a registry of named rules over a plan, each with severity, bilingual explanation and its query."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel

from service.models import PlanTree, TreeElement
from service.plans import get_tree, local_ref
from service.store import GraphStore
from service.values import format_rupiah

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2}
DEFAULT_CONFIG = Path(__file__).resolve().parent / "data" / "checks.yaml"


class Finding(BaseModel):
    rule: str
    severity: Severity
    node_ids: list[str]
    message: str
    values: dict[str, Any] = {}


class RuleInfo(BaseModel):
    id: str
    severity: Severity
    explain_id: str
    explain_en: str
    query: str


class CheckReport(BaseModel):
    plan: str
    findings: list[Finding]
    rules: list[RuleInfo] = []

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for f in self.findings:
            out[f.severity] += 1
        return out


@lru_cache(maxsize=8)
def _read_config(path: str) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def load_config(path: Path | None = None) -> dict[str, Any]:
    """Defaults from service/data/checks.yaml, overlaid by the file at `path` if given."""
    config = dict(_read_config(str(DEFAULT_CONFIG)))
    if path:
        config.update(_read_config(str(path)))
    return config


def config_from_settings(settings: Any) -> dict[str, Any]:
    """The check configuration with the overrides the settings name (checks and capaian files)."""
    config = load_config(settings.pokin_checks_config)
    config["capaian_config"] = settings.pokin_capaian_config
    return config


@dataclass
class Context:
    """What a rule may look at: the store, the plan, the configuration; the tree is read once, lazily."""

    store: GraphStore
    plan_id: str
    config: dict[str, Any]
    _tree: PlanTree | None = field(default=None, repr=False)

    @property
    def tree(self) -> PlanTree:
        if self._tree is None:
            self._tree = get_tree(self.store, self.plan_id)
        return self._tree

    @cached_property
    def by_id(self) -> dict[str, TreeElement]:
        return {e.id: e for e in self.tree.elements}

    def rows(self, query: str) -> list[dict[str, Any]]:
        return self.store.read(query, plan_id=self.plan_id)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    explain_id: str
    explain_en: str
    query: str  # the named query in cypher/ behind the rule
    run: Callable[[Context, Rule], list[Finding]]

    def finding(self, ctx: Context, node_ids: list[str], message: str, **values: Any) -> Finding:
        severity = ctx.config.get("severity", {}).get(self.id, self.severity)
        return Finding(rule=self.id, severity=severity, node_ids=node_ids, message=message, values=values)

    def info(self, ctx: Context | None = None) -> RuleInfo:
        severity = (ctx.config.get("severity", {}) if ctx else {}).get(self.id, self.severity)
        return RuleInfo(id=self.id, severity=severity, explain_id=self.explain_id, explain_en=self.explain_en, query=self.query)


RULES: dict[str, Rule] = {}


def rule(id: str, severity: Severity, explain_id: str, explain_en: str, query: str = "get_plan_tree"):
    """Register a check; the decorated function returns the findings of one plan."""

    def register(fn: Callable[[Context, Rule], list[Finding]]) -> Callable[[Context, Rule], list[Finding]]:
        RULES[id] = Rule(id, severity, explain_id, explain_en, query, fn)
        return fn

    return register


def _simple(query: str, message: Callable[[dict[str, Any]], str]) -> Callable[[Context, Rule], list[Finding]]:
    """A rule whose query returns one row per offending element (id, level, ...)."""

    def run(ctx: Context, r: Rule) -> list[Finding]:
        out = []
        for row in ctx.rows(query):
            values = {k: v for k, v in row.items() if k not in ("id",)}
            out.append(r.finding(ctx, [row["id"]], message(row), **values))
        return out

    return run


def simple_rule(id: str, severity: Severity, explain_id: str, explain_en: str, query: str,
                message: Callable[[dict[str, Any]], str]) -> None:
    """Register a rule whose query returns one row per offending element (id, level, statement)."""
    rule(id, severity, explain_id, explain_en, query)(_simple(query, message))


def _lvl(level: str) -> str:
    return level.replace("_", " ")


# ---- alignment -------------------------------------------------------------------------

simple_rule("orphan", "error",
     "Elemen tidak tersambung ke sasaran strategis atau tujuan mana pun (yatim).",
     "Element has no CONTRIBUTES_TO path up to a sasaran strategis or tujuan (orphan).",
     "check_orphans", lambda r: f"{_lvl(r['level'])} does not trace to a sasaran or tujuan: {r['statement']}")

simple_rule("no_parent", "warning",
     "Elemen selain tujuan tidak mendukung elemen mana pun di atasnya.",
     "Element other than a tujuan contributes to nothing above it.",
     "check_no_parent", lambda r: f"{_lvl(r['level'])} has no parent: {r['statement']}")

simple_rule("dead_end", "warning",
     "Tujuan, sasaran, program atau kegiatan tanpa apa pun di bawahnya.",
     "Tujuan, sasaran, program or kegiatan with nothing below it (dead end).",
     "check_dead_ends", lambda r: f"{_lvl(r['level'])} has nothing below it: {r['statement']}")

simple_rule("unfunded_leaf", "warning",
     "Kondisi paling operasional tanpa sub kegiatan beranggaran di belakangnya.",
     "Lowest-level condition with no budgeted sub kegiatan behind it (a statement nobody funds).",
     "check_unfunded_leaves", lambda r: f"sub kegiatan without anggaran: {r['statement']}")

simple_rule("cycle", "error",
     "Rantai CONTRIBUTES_TO membentuk siklus.",
     "CONTRIBUTES_TO chain forms a cycle (loading refuses these; defensive).",
     "check_cycles", lambda r: f"{_lvl(r['level'])} lies on a cycle: {r['statement']}")


# ---- indikator -------------------------------------------------------------------------

simple_rule("missing_indikator", "error",
     "Elemen tanpa indikator kinerja.",
     "Element without an indikator.",
     "check_missing_indikator", lambda r: f"{_lvl(r['level'])} has no indikator: {r['statement']}")


@rule("missing_target", "warning", "Indikator tanpa target.", "Indikator without a target.", "check_missing_target")
def _missing_target(ctx: Context, r: Rule) -> list[Finding]:
    return [r.finding(ctx, [row["id"]], f"indikator has no target: {row['indikator']}", level=row["level"],
                      indikator_id=row["indikator_id"], indikator=row["indikator"])
            for row in ctx.rows("check_missing_target")]


def _starts_with(name: str, words: list[str]) -> bool:
    first = name.strip().split(" ", 1)[0].casefold() if name.strip() else ""
    return first in words


@rule("unit_mismatch", "warning",
      "Satuan bertentangan dengan nama indikator ('Persentase ...' dengan satuan jumlah, 'Jumlah ...' dengan %).",
      "Unit contradicts the indikator's name ('Persentase ...' with a count unit, 'Jumlah ...' with %).")
def _unit_mismatch(ctx: Context, r: Rule) -> list[Finding]:
    prop, count, pct = ctx.config["proportion_words"], ctx.config["count_words"], ctx.config["percent_units"]
    out = []
    for e in ctx.tree.elements:
        for ind in e.indikator:
            units = {u.strip().casefold() for u in [ind.satuan or ""] + [n.unit for n in ind.target.values()] if u and u.strip()}
            has_pct = any(u in pct for u in units)
            other = sorted(u for u in units if u not in pct)
            if _starts_with(ind.name, count) and has_pct:
                out.append(r.finding(ctx, [e.id], f"'{ind.name}' names a count but its unit is %", indikator=ind.name,
                                     units=sorted(units)))
            elif _starts_with(ind.name, prop) and other and not has_pct:
                out.append(r.finding(ctx, [e.id], f"'{ind.name}' names a proportion but its unit is {', '.join(other)}",
                                     indikator=ind.name, units=sorted(units)))
    return out


@rule("repeated_indikator", "warning",
      "Indikator yang sama dipakai pada elemen dan elemen induknya.",
      "The same indikator is used on an element and on the element it contributes to.",
      "check_repeated_indikator")
def _repeated(ctx: Context, r: Rule) -> list[Finding]:
    return [r.finding(ctx, [row["child"], local_ref(ctx.plan_id, row["parent_uid"])],
                      f"{_lvl(row['child_level'])} repeats its {_lvl(row['parent_level'])}'s indikator: {row['indikator']}",
                      indikator=row["indikator"])
            for row in ctx.rows("check_repeated_indikator")]


@rule("compound_indikator", "warning",
      "Satu indikator memuat dua ukuran yang digabung dengan 'dan'.",
      "One indikator names two measures joined by 'dan'.")
def _compound(ctx: Context, r: Rule) -> list[Finding]:
    words = "|".join(re.escape(w) for w in ctx.config["measure_words"])
    pattern = re.compile(rf"^\s*({words})\b.*\bdan\s+({words})\b", re.I)
    return [r.finding(ctx, [e.id], f"two measures in one indikator: {ind.name}", indikator=ind.name)
            for e in ctx.tree.elements for ind in e.indikator if pattern.search(ind.name)]


# ---- budget ---------------------------------------------------------------------------------


@rule("budget_rollup", "error",
      "Anggaran induk berbeda dari jumlah anggaran elemen di bawahnya.",
      "A parent's anggaran differs from the sum of its children's.",
      "check_budget_rollup")
def _rollup(ctx: Context, r: Rule) -> list[Finding]:
    out = []
    for row in ctx.rows("check_budget_rollup"):
        pagu, total = int(row["pagu"]), int(row["children_sum"])
        out.append(r.finding(
            ctx, [row["id"], *row["children"]],
            f"{_lvl(row['level'])} anggaran {format_rupiah(pagu)} but its contributors add up to {format_rupiah(total)} "
            f"(difference {format_rupiah(pagu - total)})",
            pagu=pagu, raw=row["raw"], children_sum=total, difference=pagu - total, children=row["children"]))
    return out


@rule("malformed_rupiah", "error",
      "Angka rupiah tidak ditulis dengan benar (kelompok ribuan harus tiga digit).",
      "A rupiah figure is not well-formed (thousands groups must have three digits).",
      "check_malformed_rupiah")
def _malformed(ctx: Context, r: Rule) -> list[Finding]:
    return [r.finding(ctx, [row["id"]], f"{row['figure']} written as '{row['raw']}' (reads as {format_rupiah(int(row['reads_as']))})",
                      level=row["level"], raw=row["raw"], reads_as=int(row["reads_as"]), figure=row["figure"])
            for row in ctx.rows("check_malformed_rupiah")]


# ---- nomenclature codes -------------------------------------------------------------------------

NOMEN_LEVELS = ("program", "kegiatan", "sub_kegiatan")


@dataclass(frozen=True)
class CodeInfo:
    """The nomenclature code of an element: written in the document, or resolved from its name."""

    code: str
    given: bool
    official_name: str | None
    score: float | None


def codes(ctx: Context) -> dict[str, CodeInfo]:
    """Codes of the plan's program / kegiatan / sub kegiatan, resolving names the document gives without
    codes (the seeds give names only) within the parent's code first, then over the whole level."""
    cached = ctx.__dict__.get("_codes")
    if cached is not None:
        return cached
    from service.nomenklatur import Nomenklatur

    nomen = Nomenklatur.default()
    bidang = ctx.config.get("bidang", "1.06")
    out: dict[str, CodeInfo] = {}
    ordered = sorted((e for e in ctx.tree.elements if e.level in NOMEN_LEVELS), key=lambda e: NOMEN_LEVELS.index(e.level))
    for e in ordered:
        if e.nomenklatur.code:
            out[e.id] = CodeInfo(e.nomenklatur.code, True, None, None)
            continue
        if not e.nomenklatur.name:
            continue
        parent_codes = [out[p].code for p in e.parents if p in out and p in ctx.by_id
                        and NOMEN_LEVELS.index(ctx.by_id[p].level) == NOMEN_LEVELS.index(e.level) - 1]
        found = None
        for pc in parent_codes:
            found = nomen.resolve_one(e.nomenklatur.name, e.level, bidang, parent_code=pc)
            if found:
                break
        found = found or nomen.resolve_one(e.nomenklatur.name, e.level, bidang)
        if found:
            out[e.id] = CodeInfo(found.code, False, found.name, found.score)
    ctx.__dict__["_codes"] = out
    return out


@rule("code_format", "error",
      "Kode nomenklatur tidak sesuai format (U.BB.PP / U.BB.PP.L.KK / U.BB.PP.L.KK.SSSS).",
      "Nomenclature code is malformed for its level (U.BB.PP / U.BB.PP.L.KK / U.BB.PP.L.KK.SSSS).")
def _code_format(ctx: Context, r: Rule) -> list[Finding]:
    from service.nomenklatur import code_problem

    out = []
    for e in ctx.tree.elements:
        if e.nomenklatur.code and e.level in NOMEN_LEVELS:
            problem = code_problem(e.nomenklatur.code, e.level)
            if problem:
                out.append(r.finding(ctx, [e.id], f"{_lvl(e.level)} code {e.nomenklatur.code}: {problem}", code=e.nomenklatur.code))
    return out


@rule("code_parent", "error",
      "Kode tidak berawalan kode induknya (mis. sub kegiatan di bawah kegiatan yang salah).",
      "Code does not start with its parent's code (e.g. a sub kegiatan under the wrong kegiatan).")
def _code_parent(ctx: Context, r: Rule) -> list[Finding]:
    from service.nomenklatur import prefix_matches

    known = codes(ctx)
    out = []
    for e in ctx.tree.elements:
        mine = known.get(e.id)
        if not mine:
            continue
        for p in e.parents:
            theirs = known.get(p)
            if p not in ctx.by_id or not theirs or NOMEN_LEVELS.index(ctx.by_id[p].level) != NOMEN_LEVELS.index(e.level) - 1:
                continue
            if not prefix_matches(mine.code, theirs.code):
                how = "" if mine.given and theirs.given else " (codes resolved from the nomenclature names)"
                out.append(r.finding(ctx, [e.id, p],
                                     f"{_lvl(e.level)} {mine.code} {e.nomenklatur.name or ''} is listed under "
                                     f"{_lvl(ctx.by_id[p].level)} {theirs.code} {ctx.by_id[p].nomenklatur.name or ''}{how}",
                                     code=mine.code, parent_code=theirs.code, resolved=not (mine.given and theirs.given)))
    return out


@rule("nomenklatur_unknown", "error",
      "Pasangan kode dan nama tidak ada dalam daftar nomenklatur resmi.",
      "The (code, name) pair is not in the official nomenclature list.")
def _nomen_unknown(ctx: Context, r: Rule) -> list[Finding]:
    from service.nomenklatur import Nomenklatur

    nomen, bidang, known = Nomenklatur.default(), ctx.config.get("bidang", "1.06"), codes(ctx)
    out = []
    for e in ctx.tree.elements:
        if e.level not in NOMEN_LEVELS or not (e.nomenklatur.name or e.nomenklatur.code):
            continue
        if e.nomenklatur.code and e.nomenklatur.name:
            res = nomen.check(e.nomenklatur.code, e.nomenklatur.name, e.level, bidang)
            if res.status in ("unknown_code", "name_mismatch"):
                out.append(r.finding(ctx, [e.id], f"{e.nomenklatur.code} {e.nomenklatur.name}: {res.message}",
                                     code=e.nomenklatur.code, official_name=res.official_name))
        elif e.nomenklatur.name and e.id not in known:
            best = nomen.resolve(e.nomenklatur.name, e.level, bidang, limit=1)
            hint = f" (closest: {best[0].code} {best[0].name}, similarity {best[0].score:.2f})" if best else ""
            out.append(r.finding(ctx, [e.id], f"{_lvl(e.level)} name not found in the official list: {e.nomenklatur.name}{hint}",
                                 name=e.nomenklatur.name, closest=best[0].code if best else None))
    return out


@rule("nomenklatur_near_miss", "warning",
      "Nama nomenklatur hampir sama dengan nama resmi (salah ketik).",
      "The nomenclature name is close to, but not the same as, the official name (a typo).")
def _nomen_near(ctx: Context, r: Rule) -> list[Finding]:
    from service.nomenklatur import Nomenklatur

    nomen, bidang = Nomenklatur.default(), ctx.config.get("bidang", "1.06")
    out = []
    for e in ctx.tree.elements:
        info = codes(ctx).get(e.id)
        if not info or not e.nomenklatur.name:
            continue
        if info.given:
            res = nomen.check(info.code, e.nomenklatur.name, e.level, bidang)
            near, official, score = res.status == "near_miss", res.official_name, res.ratio
        else:
            near, official, score = (info.score or 0) < 1.0, info.official_name, info.score
        if near:
            out.append(r.finding(ctx, [e.id], f"'{e.nomenklatur.name}' is written for {info.code} {official!r} "
                                              f"(similarity {score:.2f})", code=info.code, official_name=official, score=score))
    return out


# ---- jabatan ---------------------------------------------------------------------------------

simple_rule("no_owner", "warning",
     "Elemen tanpa pemilik (jabatan yang mengampu).",
     "Element that no jabatan owns.",
     "check_no_owner", lambda r: f"{_lvl(r['level'])} has no owner: {r['statement']}")


@rule("owner_level", "warning",
      "Tingkat jabatan pemilik tidak sesuai dengan tingkat elemen.",
      "The owner's jabatan level does not fit the element's level.",
      "check_owner_level")
def _owner_level(ctx: Context, r: Rule) -> list[Finding]:
    allowed = ctx.config["owner_levels"]
    return [r.finding(ctx, [row["id"]],
                      f"{_lvl(row['level'])} owned by {row['jabatan_name']} ({_lvl(row['jabatan_level'])}); expected "
                      f"{' or '.join(_lvl(x) for x in allowed.get(row['level'], []))}",
                      level=row["level"], jabatan=row["jabatan"], jabatan_level=row["jabatan_level"])
            for row in ctx.rows("check_owner_level") if row["jabatan_level"] not in allowed.get(row["level"], [])]


# ---- capaian --------------------------------------------------------------------------------------


def capaian_rows(ctx: Context) -> list[Any]:
    """The capaian report of the plan (service.capaian), computed once per check run."""
    cached = ctx.__dict__.get("_capaian")
    if cached is None:
        from service import capaian

        config = capaian.load_config(ctx.config.get("capaian_config"))
        config = config.model_copy(update={"tolerance": ctx.config.get("capaian_tolerance", config.tolerance),
                                           "realistic": tuple(ctx.config.get("capaian_bounds", config.realistic))})
        cached = ctx.__dict__["_capaian"] = capaian.plan_capaian(ctx.tree, config).indikator
    return cached


def _cap_rule(flag_names: tuple[str, ...], message: Callable[[Any], str],
              unless: tuple[str, ...] = ()) -> Callable[[Context, Rule], list[Finding]]:
    def run(ctx: Context, r: Rule) -> list[Finding]:
        return [r.finding(ctx, [row.element_id], message(row), indikator=row.name, year=row.year, target=row.target.raw,
                          realisasi=row.realisasi.raw, reported=row.reported, computed=row.capaian,
                          capaian_if_positif=row.capaian_if_positif, polaritas=row.polaritas)
                for row in capaian_rows(ctx)
                if any(f in row.flags for f in flag_names) and not any(f in row.flags for f in unless)]

    return run


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}".replace(".", ",")


rule("capaian_reported_differs", "error",
     "Capaian yang dilaporkan berbeda dari hasil hitung ulang.",
     "The reported capaian differs from the recomputed one.")(
    _cap_rule(("reported_differs",), lambda row: f"{row.name} {row.year}: reported {_num(row.reported)} %, recomputed "
                                                  f"{_num(row.capaian)} % ({row.formula})",
              unless=("computed_as_if_higher_were_better",)))  # that case has its own, more precise rule

rule("capaian_wrong_polarity", "error",
     "Indikator berpolaritas negatif dihitung seolah-olah makin tinggi makin baik.",
     "A negative-polarity indikator's capaian was computed as if higher were better.")(
    _cap_rule(("computed_as_if_higher_were_better",),
              lambda row: f"{row.name} {row.year}: target {row.target.raw}, realisasi {row.realisasi.raw}, reported "
                          f"{_num(row.reported)} % is realisasi/target; lower is better here, so capaian is "
                          f"{_num(row.capaian)} %"))

rule("polaritas_mismatch", "warning",
     "Polaritas yang dinyatakan bertentangan dengan makna indikator (mis. kemiskinan mestinya negatif).",
     "The declared polaritas contradicts what the indikator measures (e.g. poverty is lower-is-better).")(
    _cap_rule(("polaritas_declared_positif_expected_negatif",),
              lambda row: f"{row.name}: declared positif, but lower is better for it (negatif)"))

rule("capaian_unrealistic", "warning",
     "Capaian di luar batas wajar (target tidak realistis atau realisasi kumulatif).",
     "Capaian outside realistic bounds (an unrealistic target, or a cumulated realisasi).")(
    _cap_rule(("above_realistic_bounds", "below_realistic_bounds"),
              lambda row: f"{row.name} {row.year}: capaian {_num(row.capaian)} % is outside the realistic bounds"))


def run_checks(store: GraphStore, plan_id: str, config: dict[str, Any] | None = None,
               only: list[str] | None = None) -> CheckReport:
    """Run every registered rule (or those named in `only`) on one plan.

    Raises:
        NotFound: the plan is not loaded.
    """
    config = config or load_config()
    ctx = Context(store, plan_id, config)
    _ = ctx.tree  # fails with NotFound for an unknown plan before any rule runs
    findings: list[Finding] = []
    for rid, r in RULES.items():
        if only and rid not in only:
            continue
        findings.extend(r.run(ctx, r))
    findings.sort(key=lambda f: (-SEVERITY_ORDER[f.severity], f.rule, f.node_ids))
    return CheckReport(plan=plan_id, findings=findings, rules=[r.info(ctx) for r in RULES.values()])


def to_csv(report: CheckReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["plan", "rule", "severity", "node_ids", "message"])
    for f in report.findings:
        w.writerow([report.plan, f.rule, f.severity, " ".join(f.node_ids), f.message])
    return buf.getvalue()
