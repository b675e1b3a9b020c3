"""Checks: a registry of named rules over a plan, each with severity, bilingual explanation and its query."""

from __future__ import annotations

import csv
import gc
import io
import re
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, Field

from service.errors import Busy, NotFound, QueryError
from service.nomenklatur import LEVEL_ABOVE, LEVELS
from service.plans import list_plans, local_ref
from service.store import GraphStore
from service.values import format_rupiah, parse_rupiah, text_key

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2}
DEFAULT_CONFIG = Path(__file__).resolve().parent / "data" / "checks.yaml"


class Finding(BaseModel):
    rule: str
    severity: Severity
    node_ids: list[str]
    message: str
    values: dict[str, Any] = {}
    # which plan the finding belongs to when several are checked at once; reports group by it
    plan: str | None = Field(default=None, exclude=True)


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


# queries a rule reads besides the one it names (prefetched with it, with the same parameters)
READS_ALSO: dict[str, tuple[str, ...]] = {"check_nomenklatur_facts": ("check_nomenklatur_parents",)}
# rules whose queries these are skip what a document does not give (absent()): list_absent goes first,
# a small reply they need before their own
READS_ABSENT = frozenset({"check_orphans", "check_dead_ends", "check_unfunded_leaves", "check_indikator_facts",
                          "check_condition_wording", "check_owners", "list_absent"})
# The queries whose rows take the rules longest to work through (half of a kabupaten check's Python):
# sent first, and their rules run first, while the engine computes the other rules' rows.
READ_FIRST = ("check_indikator_facts", "check_nomenklatur_facts", "check_nomenklatur_parents")


@dataclass
class Context:
    """What a rule may look at: the store, the plans checked together, the configuration.

    Every rule query takes the list of plans, so checking a whole pemda costs one query per rule, not
    one per rule and plan. A query several rules read (the facts queries) runs once per check.
    """

    store: GraphStore
    plan_ids: list[str]
    config: dict[str, Any]
    tahun: dict[str, int | None] = field(default_factory=dict)  # each plan's budget year, where it gives one
    kind: dict[str, str | None] = field(default_factory=dict)  # each plan's kind of document (iku, lkjip, ...)
    _rows: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict, repr=False)
    _ahead: list[tuple[str, str]] = field(default_factory=list, repr=False)  # sent, not read yet, in order
    _replies: Generator[list[dict[str, Any]], None, None] | None = field(default=None, repr=False)

    def rows(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """The rows of `query` over the context's plans (with `params` besides), read once per check."""
        key = _key(query, params)
        while key not in self._rows and key in self._ahead and self._replies is not None:
            self._rows[self._ahead.pop(0)] = next(self._replies)
        if key not in self._rows:
            self._rows[key] = self.store.read(query, plan_ids=self.plan_ids, **params)
        return self._rows[key]

    def read_ahead(self, queries: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Send the given (query, params) now, in this order (store.read_many); rows() reads each reply
        when a rule asks for it, while the engine computes the next."""
        todo = {_key(q, params): (q, params) for q, params in queries}
        self._ahead = [k for k in todo if k not in self._rows]
        self._replies = self.store.read_many([(q, {"plan_ids": self.plan_ids, **params})
                                              for q, params in (todo[k] for k in self._ahead)])

    def close(self) -> None:
        """Abandon the replies not read yet (a rule failed)."""
        if self._replies is not None:
            self._replies.close()
            self._replies, self._ahead = None, []


def _key(query: str, params: dict[str, Any]) -> tuple[str, str]:
    return query, repr(sorted(params.items()))


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    explain_id: str
    explain_en: str
    query: str  # the named query in cypher/ behind the rule
    run: Callable[[Context, Rule], list[Finding]]
    # the query's parameters besides plan_ids, from the configuration (so it can be sent ahead)
    params: Callable[[Context], dict[str, Any]] = lambda ctx: {}

    def finding(self, ctx: Context, plan: str, node_ids: list[str], message: str, **values: Any) -> Finding:
        severity = ctx.config.get("severity", {}).get(self.id, self.severity)
        if severity not in SEVERITY_ORDER:  # a configured one: checked here, as the model would
            raise ValueError(f"severity of rule {self.id!r} must be error, warning or info, not {severity!r}")
        # Built without validating again what the line above and the rule's own code guarantee (a list of
        # ids, a text, a dict): a kabupaten check makes 2,000 findings, and validation was 3 µs of each.
        return Finding.model_construct(rule=self.id, severity=severity, node_ids=node_ids, message=message, values=values,
                                       plan=plan)

    def info(self, ctx: Context | None = None) -> RuleInfo:
        severity = (ctx.config.get("severity", {}) if ctx else {}).get(self.id, self.severity)
        return RuleInfo(id=self.id, severity=severity, explain_id=self.explain_id, explain_en=self.explain_en, query=self.query)


RULES: dict[str, Rule] = {}


def rule(id: str, severity: Severity, explain_id: str, explain_en: str, query: str,
         params: Callable[[Context], dict[str, Any]] | None = None):
    """Register a check; the decorated function returns the findings over the context's plans, reading
    `query` with `params(ctx)` besides the plans (ctx.rows(query, **params(ctx)))."""

    def register(fn: Callable[[Context, Rule], list[Finding]]) -> Callable[[Context, Rule], list[Finding]]:
        RULES[id] = Rule(id, severity, explain_id, explain_en, query, fn, params or Rule.params)
        return fn

    return register


def simple_rule(id: str, severity: Severity, explain_id: str, explain_en: str, query: str,
                message: Callable[[dict[str, Any]], str], where: Callable[[dict[str, Any]], bool] | None = None,
                params: Callable[[Context], dict[str, Any]] | None = None, needs: str | None = None) -> None:
    """Register a rule with one finding per row of `query` (plan, id, level, statement, ...) that `where`
    keeps (all rows without it: a query several rules share says in a column which rule a row is for),
    its level and statement as values; rows of elements whose document does not give `needs` (absent) are
    left out."""

    def run(ctx: Context, r: Rule) -> list[Finding]:
        gone = absent(ctx, needs) if needs else set()
        return [r.finding(ctx, row["plan"], [row["id"]], message(row), level=row["level"], statement=row["statement"])
                for row in ctx.rows(query, **(params(ctx) if params else {}))
                if (where is None or where(row)) and (row["plan"], row["id"]) not in gone]

    rule(id, severity, explain_id, explain_en, query, params)(run)


def _lvl(level: str) -> str:
    return level.replace("_", " ")


def _absent_map(ctx: Context) -> dict[tuple[str, str], frozenset[str]]:
    """What the documents do not give, by (plan, element id), read once per check run; and, in
    ctx._absent_by_plan, what they do not give for any element: the plan's own absent, and what its kind
    of document does not carry (configuration absent_by_kind: an IKU table gives no cascade)."""
    cached = ctx.__dict__.get("_absent")
    if cached is None:
        by_kind = {k: frozenset(v) for k, v in ctx.config.get("absent_by_kind", {}).items()}
        whole = {p: by_kind[k] for p, k in ctx.kind.items() if k in by_kind}
        ctx.__dict__["_absent_by_kind"] = dict(whole)  # what of it comes from the kind (document_gap says so)
        cached = {}
        for r in ctx.rows("list_absent"):
            if r["plan_absent"]:
                whole[r["plan"]] = whole.get(r["plan"], frozenset()) | frozenset(r["plan_absent"])
            for item in r["elements"] or ():
                eid, _, aspects = item.partition("|")
                cached[(r["plan"], eid)] = frozenset(aspects.split(","))
        ctx.__dict__["_absent_by_plan"] = whole
        ctx.__dict__["_absent"] = cached
    return cached


def absent(ctx: Context, aspect: str) -> set[tuple[str, str]] | _EveryIn:
    """The (plan, element id) pairs whose document does not give `aspect` (statement, parents, below,
    indikator, target, anggaran, jabatan): the rules that need it skip them (and document_gap says so)."""
    pairs = {key for key, gone in _absent_map(ctx).items() if aspect in gone}
    plans = {p for p, gone in ctx.__dict__["_absent_by_plan"].items() if aspect in gone}
    return _EveryIn(pairs, plans) if plans else pairs


class _EveryIn:
    """The pairs given, and every element of the plans given (a plan whose kind does not carry an aspect)."""

    def __init__(self, pairs: set[tuple[str, str]], plans: set[str]):
        self.pairs, self.plans = pairs, plans

    def __contains__(self, key: object) -> bool:
        return key in self.pairs or (isinstance(key, tuple) and key[0] in self.plans)


# ---- alignment -------------------------------------------------------------------------

simple_rule("orphan", "error",
     "Elemen tidak tersambung ke sasaran strategis atau tujuan mana pun (yatim).",
     "Element has no CONTRIBUTES_TO path up to a sasaran strategis or tujuan (orphan).",
     "check_orphans", lambda r: f"{_lvl(r['level'])} does not trace to a sasaran or tujuan: {r['statement']}", needs="parents")

# an element without a parent is an orphan too: check_orphans returns it, with parents 0
simple_rule("no_parent", "warning",
     "Elemen selain tujuan tidak mendukung elemen mana pun di atasnya.",
     "Element other than a tujuan contributes to nothing above it.",
     "check_orphans", lambda r: f"{_lvl(r['level'])} has no parent: {r['statement']}", where=lambda r: r["parents"] == 0, needs="parents")

simple_rule("dead_end", "warning",
     "Tujuan, sasaran, program atau kegiatan tanpa apa pun di bawahnya.",
     "Tujuan, sasaran, program or kegiatan with nothing below it (dead end).",
     "check_dead_ends", lambda r: f"{_lvl(r['level'])} has nothing below it: {r['statement']}", needs="below")

simple_rule("unfunded_leaf", "warning",
     "Kondisi paling operasional tanpa sub kegiatan beranggaran di belakangnya.",
     "Lowest-level condition with no budgeted sub kegiatan behind it (a statement nobody funds).",
     "check_unfunded_leaves", lambda r: f"sub kegiatan without anggaran: {r['statement']}", needs="anggaran")

simple_rule("cycle", "error",
     "Rantai CONTRIBUTES_TO membentuk siklus.",
     "CONTRIBUTES_TO chain forms a cycle (loading refuses these; defensive).",
     "check_cycles", lambda r: f"{_lvl(r['level'])} lies on a cycle: {r['statement']}")


# ---- indikator -------------------------------------------------------------------------

simple_rule("missing_indikator", "error",
     "Elemen tanpa indikator kinerja.",
     "Element without an indikator.",
     "check_indikator_facts", lambda r: f"{_lvl(r['level'])} has no indikator: {r['statement']}",
     where=lambda r: r["indikator_id"] is None, needs="indikator")


@rule("missing_target", "warning", "Indikator tanpa target.", "Indikator without a target.", "check_indikator_facts")
def _missing_target(ctx: Context, r: Rule) -> list[Finding]:
    gone = absent(ctx, "target")
    return [r.finding(ctx, row["plan"], [row["id"]], f"indikator has no target: {row['name']}", level=row["level"],
                      indikator_id=row["indikator_id"], indikator=row["name"])
            for row in ctx.rows("check_indikator_facts")
            if row["indikator_id"] is not None and row["has_target"] is False and (row["plan"], row["id"]) not in gone]


def _units(ctx: Context, key: str) -> list[str]:
    """Configured units as the queries compare them: trimmed, lower case."""
    return [w.strip().casefold() for w in ctx.config[key]]


def _name_words(ctx: Context, key: str) -> list[str]:
    """Configured words that start a name, in the names' normalised form (text_key, as name_key):
    'Jml.' is 'jml', 'rata-rata' is 'rata rata'."""
    return [k for w in ctx.config[key] if (k := text_key(w))]


def _first_words(words: list[str]) -> list[str]:
    """The first word of each (what the query can compare with the first word of a name_key)."""
    return sorted({w.split(" ")[0] for w in words})


def _names_params(ctx: Context) -> dict[str, Any]:
    """check_indikator_names's configured words, for unit_mismatch and compound_indikator: the first word
    of each, the rules confirm the whole word."""
    return {"count_words": _first_words(_name_words(ctx, "count_words")),
            "proportion_words": _first_words(_name_words(ctx, "proportion_words")),
            "percent_units": _units(ctx, "percent_units"),
            "first_words": _first_words(_name_words(ctx, "measure_words"))}


def _starts_with_one_of(name_key: str, words: list[str]) -> bool:
    return any(name_key == w or name_key.startswith(w + " ") for w in words)


@rule("unit_mismatch", "warning",
      "Satuan bertentangan dengan nama indikator ('Persentase ...' dengan satuan jumlah, 'Jumlah ...' dengan %).",
      "Unit contradicts the indikator's name ('Persentase ...' with a count unit, 'Jumlah ...' with %).",
      "check_indikator_names", params=_names_params)
def _unit_mismatch(ctx: Context, r: Rule) -> list[Finding]:
    out = []
    count_words, proportion_words = _name_words(ctx, "count_words"), _name_words(ctx, "proportion_words")
    for row in ctx.rows("check_indikator_names", **_names_params(ctx)):
        # the query compared first words; a configured word of several words must start the name whole
        if not row["unit_mismatch"] or not _starts_with_one_of(
                row["name_key"], count_words if row["has_pct"] else proportion_words):
            continue
        units = sorted(set(row["units"]))
        if row["has_pct"]:
            message = f"'{row['indikator']}' names a count but its unit is %"
        else:
            message = f"'{row['indikator']}' names a proportion but its unit is {', '.join(units)}"
        out.append(r.finding(ctx, row["plan"], [row["id"]], message, indikator=row["indikator"], units=units))
    return out


@rule("repeated_indikator", "warning",
      "Indikator yang sama dipakai pada elemen dan elemen induknya.",
      "The same indikator is used on an element and on the element it contributes to.",
      "check_repeated_indikator")
def _repeated(ctx: Context, r: Rule) -> list[Finding]:
    return [r.finding(ctx, row["plan"], [row["child"], local_ref(row["plan"], row["parent_uid"])],
                      f"{_lvl(row['child_level'])} repeats its {_lvl(row['parent_level'])}'s indikator: {row['indikator']}",
                      indikator=row["indikator"])
            for row in ctx.rows("check_repeated_indikator")]


@rule("compound_indikator", "warning",
      "Satu indikator memuat dua ukuran yang digabung dengan 'dan'.",
      "One indikator names two measures joined by 'dan'.",
      "check_indikator_names", params=_names_params)
def _compound(ctx: Context, r: Rule) -> list[Finding]:
    alternatives = "|".join(re.escape(w) for w in _name_words(ctx, "measure_words"))
    pattern = re.compile(rf"^({alternatives}) (.* )?dan ({alternatives})( |$)")  # on name_key: one space between words
    return [r.finding(ctx, row["plan"], [row["id"]], f"two measures in one indikator: {row['indikator']}", indikator=row["indikator"])
            for row in ctx.rows("check_indikator_names", **_names_params(ctx)) if row["compound"] and pattern.search(row["name_key"])]


def _output_params(ctx: Context) -> dict[str, Any]:
    """check_output_indikator's levels and the first word of each configured output word."""
    return {"outcome_levels": list(ctx.config["outcome_levels"]), "first_words": _first_words(_name_words(ctx, "output_words"))}


@rule("output_indikator", "warning",
      "Indikator keluaran (jumlah laporan, dokumen, rapat) pada tujuan, sasaran atau program: "
      "di tingkat ini mestinya indikator hasil (outcome).",
      "An output indikator (a number of reports, documents, meetings) on a tujuan, sasaran or program, "
      "where an outcome indikator belongs.",
      "check_output_indikator", params=_output_params)
def _output_indikator(ctx: Context, r: Rule) -> list[Finding]:
    words = _name_words(ctx, "output_words")  # the query compared first words; the whole word must start the name
    return [r.finding(ctx, row["plan"], [row["id"]], f"{_lvl(row['level'])} is measured by an output: {row['indikator']}",
                      level=row["level"], indikator=row["indikator"])
            for row in ctx.rows("check_output_indikator", **_output_params(ctx)) if _starts_with_one_of(row["name_key"], words)]


# ---- wording ---------------------------------------------------------------------------------


def _condition_params(ctx: Context) -> dict[str, Any]:
    return {"condition_levels": list(ctx.config["condition_levels"])}


@rule("condition_wording", "warning",
      "Pernyataan kinerja tidak dirumuskan sebagai kondisi yang dicapai (Meningkatnya ..., Terwujudnya ...) "
      "atau hanya menyalin nama nomenklatur.",
      "The statement is not worded as a condition reached (Meningkatnya ..., Terwujudnya ...), or merely copies "
      "the nomenclature name.",
      "check_condition_wording", params=_condition_params)
def _condition_wording(ctx: Context, r: Rule) -> list[Finding]:
    out = []
    gone = absent(ctx, "statement")
    for row in ctx.rows("check_condition_wording", **_condition_params(ctx)):
        if (row["plan"], row["id"]) in gone:  # the text is lost, or the transcription holds a filler
            continue
        statement, level = row["statement"], _lvl(row["level"])
        words = statement.split()
        if words and words[0].casefold().endswith("nya"):  # a condition after all, in capitals or after spaces
            continue
        if row["nomenklatur_name"] and text_key(statement) == text_key(row["nomenklatur_name"]):
            message = f"{level} statement copies its nomenclature name: {statement}"
        elif statement.startswith("(") and statement.endswith(")"):  # a transcriber's note where the text was
            message = f"{level} has no statement in the document: {statement}"
        else:
            message = f"{level} statement is not worded as a condition reached (Meningkatnya ..., Terwujudnya ...): {statement}"
        out.append(r.finding(ctx, row["plan"], [row["id"]], message, level=row["level"], statement=statement))
    return out


# ---- budget ---------------------------------------------------------------------------------


@rule("budget_rollup", "error",
      "Anggaran induk berbeda dari jumlah anggaran elemen di bawahnya (versi anggaran yang sama).",
      "A parent's anggaran differs from the sum of its children's (of the same budget version).",
      "check_budget_rollup")
def _rollup(ctx: Context, r: Rule) -> list[Finding]:
    out = []
    for row in ctx.rows("check_budget_rollup"):
        if len({row["versi"], *row["versions"]} - {None}) > 1:
            continue  # figures of two budget versions (murni, perubahan): not comparable (RULES R2.8)
        pagu, total = int(row["pagu"]), int(row["children_sum"])
        children = [c for _, c in sorted(zip(row["seqs"], row["children"], strict=True))]  # document order
        guessed = [c for c, raw in zip(row["malformed"], row["malformed_raw"], strict=True) if not spaced_only(raw)]
        parent_guessed = bool(row["parent_malformed"]) and not spaced_only(row["raw"])
        malformed = ([row["id"]] if parent_guessed else []) + sorted(guessed, key=children.index)
        if malformed:  # a figure is a guess: no difference to report, but both sides as written
            what = (f"anggaran written '{row['raw']}', malformed (read as {format_rupiah(pagu)})" if parent_guessed
                    else f"anggaran {format_rupiah(pagu)}")
            message = (f"{_lvl(row['level'])} {what}; its contributors add up to {format_rupiah(total)}"
                       + (f", with malformed figures of {', '.join(c for c in malformed if c != row['id'])}"
                          if any(c != row["id"] for c in malformed) else "")
                       + ": correct the malformed figures, then check the roll-up again")
            difference = None
        else:
            message = (f"{_lvl(row['level'])} anggaran {format_rupiah(pagu)} but its contributors add up to "
                       f"{format_rupiah(total)} (difference {format_rupiah(pagu - total)})")
            difference = pagu - total
        out.append(r.finding(ctx, row["plan"], [row["id"], *children], message, pagu=pagu, raw=row["raw"],
                             children_sum=total, difference=difference, children=children, malformed=malformed))
    return out


def spaced_only(raw: str | None) -> bool:
    """A rupiah figure whose only fault is a space inside it ('23. 000.000'): its value is not in doubt."""
    if not raw or not any(c.isspace() for c in raw.strip()):
        return False
    try:
        return parse_rupiah("".join(raw.split()))[1]
    except ValueError:
        return False


def _rupiah_rule(spaced: bool, note: str) -> Callable[[Context, Rule], list[Finding]]:
    """The findings of the malformed figures whose only fault is a space (spaced) or not (the others)."""
    def run(ctx: Context, r: Rule) -> list[Finding]:
        return [r.finding(ctx, row["plan"], [row["id"]],
                          f"{row['figure']} written as '{row['raw']}'{note} (reads as {format_rupiah(int(row['reads_as']))})",
                          level=row["level"], raw=row["raw"], reads_as=int(row["reads_as"]), figure=row["figure"])
                for row in ctx.rows("check_malformed_rupiah") if spaced_only(row["raw"]) == spaced]

    return run


rule("malformed_rupiah", "error",
     "Angka rupiah tidak ditulis dengan benar (kelompok ribuan harus tiga digit).",
     "A rupiah figure is not well-formed (thousands groups must have three digits).",
     "check_malformed_rupiah")(_rupiah_rule(spaced=False, note=""))

rule("rupiah_spacing", "warning",
     "Angka rupiah dengan spasi di dalamnya; nilainya tetap jelas.",
     "A rupiah figure with a stray space in it; its value is not in doubt.",
     "check_malformed_rupiah")(_rupiah_rule(spaced=True, note=", a stray space"))


# ---- nomenclature codes -------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeInfo:
    """The nomenclature code of an element: written in the document, or resolved from its name."""

    code: str
    given: bool
    official_name: str | None
    score: float | None


class NomenElement(NamedTuple):
    """A program, kegiatan or sub kegiatan as the code rules read it (check_nomenklatur_facts); a named
    tuple, as thousands are made per check (a frozen dataclass cost 7 us each)."""

    plan: str
    id: str
    level: str
    code: str | None
    name: str | None
    parents: tuple[str, ...]  # parents in the same plan


def _nomen_params(ctx: Context) -> dict[str, Any]:
    from service.nomenklatur import reference_version

    return {"code_ok": reference_version(), "bidang_prefix": ctx.config.get("bidang", "1.06") + "."}


def _nomen_elements(ctx: Context) -> dict[tuple[str, str], NomenElement]:
    """The elements the code rules look at: those check_nomenklatur_facts returns, and their parents one
    level up that it leaves out as certified (their code is needed above an element looked at)."""
    cached = ctx.__dict__.get("_nomen_elements")
    if cached is None:
        params = _nomen_params(ctx)
        parents: dict[tuple[str, str], list[str]] = {}
        above: dict[tuple[str, str], NomenElement] = {}
        for r in ctx.rows("check_nomenklatur_parents", **params):
            parents.setdefault((r["plan"], r["id"]), []).append(r["parent"])
            if r["parent_level"] in LEVELS:
                above[(r["plan"], r["parent"])] = NomenElement(r["plan"], r["parent"], r["parent_level"],
                                                               r["parent_code"], r["parent_name"], ())
        cached = {
            (r["plan"], r["id"]): NomenElement(r["plan"], r["id"], r["level"], r["code"], r["name"],
                                               tuple(sorted(parents.get((r["plan"], r["id"]), ()))))
            for r in ctx.rows("check_nomenklatur_facts", **params)}
        for key, e in above.items():
            cached.setdefault(key, e)
        ctx.__dict__["_nomen_elements"] = cached
    return cached


def _parent_one_up(els: dict[tuple[str, str], NomenElement], e: NomenElement) -> list[NomenElement]:
    """Parents of e one nomenclature level up (program above kegiatan, kegiatan above sub kegiatan)."""
    up = LEVEL_ABOVE.get(e.level)
    return [p for pid in e.parents if (p := els.get((e.plan, pid))) and p.level == up]


def codes(ctx: Context) -> dict[tuple[str, str], CodeInfo]:
    """Codes of the plans' program / kegiatan / sub kegiatan by (plan, element id), resolving names the
    document gives without codes (the seeds give names only) within the parent's code first, then over
    the whole level."""
    cached = ctx.__dict__.get("_codes")
    if cached is not None:
        return cached
    from service.nomenklatur import Nomenklatur

    nomen = Nomenklatur.default()
    bidang = ctx.config.get("bidang", "1.06")
    els = _nomen_elements(ctx)
    out: dict[tuple[str, str], CodeInfo] = {}
    for key, e in sorted(els.items(), key=lambda kv: LEVELS.index(kv[1].level)):
        if e.code:
            out[key] = CodeInfo(e.code, True, None, None)
            continue
        if not e.name:
            continue
        found = None
        for p in _parent_one_up(els, e):
            if (p.plan, p.id) in out:
                found = nomen.resolve_one(e.name, e.level, bidang, parent_code=out[(p.plan, p.id)].code)
                if found:
                    break
        found = found or nomen.resolve_one(e.name, e.level, bidang)
        if found:
            out[key] = CodeInfo(found.code, False, found.name, found.score)
    ctx.__dict__["_codes"] = out
    return out


def _checked(ctx: Context, e: NomenElement) -> Any:
    """nomen.check of a (code, name) pair as written, once per element and check run (two rules read it)."""
    cache = ctx.__dict__.get("_nomen_checks")
    if cache is None:
        from service.nomenklatur import Nomenklatur

        check, bidang = Nomenklatur.default().check, ctx.config.get("bidang", "1.06")
        cache = ctx.__dict__["_nomen_checks"] = {
            key: check(x.code or "", x.name or "", x.level, bidang) for key, x in _nomen_elements(ctx).items() if x.code and x.name}
    return cache[(e.plan, e.id)]


@rule("code_format", "error",
      "Kode nomenklatur tidak sesuai format (U.BB.PP / U.BB.PP.L.KK / U.BB.PP.L.KK.SSSS).",
      "Nomenclature code is malformed for its level (U.BB.PP / U.BB.PP.L.KK / U.BB.PP.L.KK.SSSS).",
      "check_nomenklatur_facts", params=_nomen_params)
def _code_format(ctx: Context, r: Rule) -> list[Finding]:
    from service.nomenklatur import code_problem

    out = []
    for e in _nomen_elements(ctx).values():
        if e.code and (problem := code_problem(e.code, e.level)):
            out.append(r.finding(ctx, e.plan, [e.id], f"{_lvl(e.level)} code {e.code}: {problem}", code=e.code))
    return out


@rule("code_parent", "error",
      "Kode tidak berawalan kode induknya (mis. sub kegiatan di bawah kegiatan yang salah).",
      "Code does not start with its parent's code (e.g. a sub kegiatan under the wrong kegiatan).",
      "check_nomenklatur_facts", params=_nomen_params)
def _code_parent(ctx: Context, r: Rule) -> list[Finding]:
    from service.nomenklatur import LIST_YEAR, earlier_placement, prefix_matches

    known, els = codes(ctx), _nomen_elements(ctx)
    out = []
    for key, e in els.items():
        mine = known.get(key)
        if not mine:
            continue
        for p in _parent_one_up(els, e):
            theirs = known.get((p.plan, p.id))
            if theirs and not prefix_matches(mine.code, theirs.code):
                tahun = ctx.tahun.get(e.plan)
                if (not mine.given and e.name and (tahun is None or tahun < LIST_YEAR)
                        and earlier_placement(e.name, theirs.code)):
                    continue  # filed where the list of its budget year had it (Kotim 2025's NIK and Akta)
                how = "" if mine.given and theirs.given else " (codes resolved from the nomenclature names)"
                out.append(r.finding(ctx, e.plan, [e.id, p.id],
                                     f"{_lvl(e.level)} {mine.code} {e.name or ''} is listed under "
                                     f"{_lvl(p.level)} {theirs.code} {p.name or ''}{how}",
                                     code=mine.code, parent_code=theirs.code, resolved=not (mine.given and theirs.given)))
    return out


@rule("nomenklatur_unknown", "error",
      "Pasangan kode dan nama tidak ada dalam daftar nomenklatur resmi.",
      "The (code, name) pair is not in the official nomenclature list.",
      "check_nomenklatur_facts", params=_nomen_params)
def _nomen_unknown(ctx: Context, r: Rule) -> list[Finding]:
    from service.nomenklatur import Nomenklatur

    nomen, bidang, known = Nomenklatur.default(), ctx.config.get("bidang", "1.06"), codes(ctx)
    out = []
    for key, e in _nomen_elements(ctx).items():
        if e.code and e.name:
            res = _checked(ctx, e)
            if res.status in ("unknown_code", "name_mismatch"):
                out.append(r.finding(ctx, e.plan, [e.id], f"{e.code} {e.name}: {res.message}",
                                     code=e.code, official_name=res.official_name))
        elif e.name and key not in known:
            best = nomen.resolve(e.name, e.level, bidang, limit=1)
            hint = f" (closest: {best[0].code} {best[0].name}, similarity {best[0].score:.2f})" if best else ""
            out.append(r.finding(ctx, e.plan, [e.id], f"{_lvl(e.level)} name not found in the official list: {e.name}{hint}",
                                 name=e.name, closest=best[0].code if best else None))
    return out


@rule("nomenklatur_near_miss", "warning",
      "Nama nomenklatur hampir sama dengan nama resmi (salah ketik).",
      "The nomenclature name is close to, but not the same as, the official name (a typo).",
      "check_nomenklatur_facts", params=_nomen_params)
def _nomen_near(ctx: Context, r: Rule) -> list[Finding]:
    known = codes(ctx)
    out = []
    for key, e in _nomen_elements(ctx).items():
        info = known.get(key)
        if not info or not e.name:
            continue
        if info.given:
            res = _checked(ctx, e)
            near, official, score = res.status == "near_miss", res.official_name, res.ratio
        else:
            near, official, score = (info.score or 0) < 1.0, info.official_name, info.score
        if near:
            out.append(r.finding(ctx, e.plan, [e.id], f"'{e.name}' is written for {info.code} {official!r} "
                                                      f"(similarity {score:.2f})", code=info.code, official_name=official, score=score))
    return out


# ---- jabatan ---------------------------------------------------------------------------------

def _owner_params(ctx: Context) -> dict[str, Any]:
    return {"allowed": [f"{level}/{j}" for level, js in ctx.config["owner_levels"].items() for j in js]}


simple_rule("no_owner", "warning",
     "Elemen tanpa pemilik (jabatan yang mengampu).",
     "Element that no jabatan owns.",
     "check_owners", lambda r: f"{_lvl(r['level'])} has no owner: {r['statement']}",
     where=lambda r: r["jabatan"] is None, params=_owner_params, needs="jabatan")


@rule("owner_level", "warning",
      "Tingkat jabatan pemilik tidak sesuai dengan tingkat elemen.",
      "The owner's jabatan level does not fit the element's level.",
      "check_owners", params=_owner_params)
def _owner_level(ctx: Context, r: Rule) -> list[Finding]:
    allowed, gone = ctx.config["owner_levels"], absent(ctx, "jabatan")
    return [r.finding(ctx, row["plan"], [row["id"]],
                      f"{_lvl(row['level'])} owned by {row['jabatan_name']} ({_lvl(row['jabatan_level'])}); expected "
                      f"{' or '.join(_lvl(x) for x in allowed.get(row['level'], []))}",
                      level=row["level"], jabatan=row["jabatan"], jabatan_level=row["jabatan_level"])
            for row in ctx.rows("check_owners", **_owner_params(ctx))
            if row["jabatan"] is not None and (row["plan"], row["id"]) not in gone]


# ---- capaian --------------------------------------------------------------------------------------


def _realised(ctx: Context) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(row, its parsed values) for every indikator with a realisasi in the plans, parsed once per check run
    (the capaian rules and target_below_realisasi read them)."""
    cached = ctx.__dict__.get("_realised")
    if cached is None:
        from service.capaian import stored_values

        # no indikator, or no realisasi (n_realisasi None: stored before it was counted, so look)
        cached = [(row, stored_values(row)) for row in ctx.rows("check_indikator_facts")
                  if row["indikator_id"] is not None and row["n_realisasi"] != 0]
        ctx.__dict__["_realised"] = cached
    return cached


def capaian_rows(ctx: Context) -> list[tuple[str, Any]]:
    """(plan, capaian row) for every indikator with realisasi in the plans (service.capaian), once per check run."""
    cached = ctx.__dict__.get("_capaian")
    if cached is None:
        from service import capaian

        config = capaian.load_config(ctx.config.get("capaian_config"))
        config = config.model_copy(update={"tolerance": ctx.config.get("capaian_tolerance", config.tolerance),
                                           "realistic": tuple(ctx.config.get("capaian_bounds", config.realistic))})
        cached = []
        used: dict[int, str] = {}  # each indikator's polaritas as computed, by position in _realised
        ctx.__dict__["_polaritas_used"] = used  # (_target_below_realisasi reads it)
        for k, (row, values) in enumerate(_realised(ctx)):
            ind = capaian.IndikatorView.of(row, id_key="indikator_id", values=values)
            computed = capaian.capaian_rows(row["id"], row["statement"], [ind], config, with_predikat=False)
            if computed:
                used[k] = computed[0].polaritas
            cached.extend((row["plan"], c) for c in computed)
        ctx.__dict__["_capaian"] = cached
    return cached


def _flagged(ctx: Context) -> dict[str, list[int]]:
    """The positions in capaian_rows(ctx) of the rows carrying each flag, found once per check run (four
    rules look for flags that few of the thousands of rows carry)."""
    cached = ctx.__dict__.get("_flagged")
    if cached is None:
        cached = {}
        for k, (_, row) in enumerate(capaian_rows(ctx)):
            for f in row.flags:
                cached.setdefault(f, []).append(k)
        ctx.__dict__["_flagged"] = cached
    return cached


def _cap_rule(flag_names: tuple[str, ...], message: Callable[[Any], str],
              unless: tuple[str, ...] = ()) -> Callable[[Context, Rule], list[Finding]]:
    def run(ctx: Context, r: Rule) -> list[Finding]:
        rows, flagged = capaian_rows(ctx), _flagged(ctx)
        hits = sorted({k for f in flag_names for k in flagged.get(f, ())})  # in row order, each row once
        return [r.finding(ctx, plan, [row.element_id], message(row), indikator=row.name, year=row.year, target=row.target.raw,
                          realisasi=row.realisasi.raw, reported=row.reported, computed=row.capaian,
                          capaian_if_positif=row.capaian_if_positif, polaritas=row.polaritas)
                for plan, row in map(rows.__getitem__, hits) if not any(f in row.flags for f in unless)]

    return run


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}".replace(".", ",")


rule("capaian_reported_differs", "error",
     "Capaian yang dilaporkan berbeda dari hasil hitung ulang.",
     "The reported capaian differs from the recomputed one.",
     "check_indikator_facts")(
    _cap_rule(("reported_differs",), lambda row: f"{row.name} {row.year}: reported {_num(row.reported)} %, recomputed "
                                                  f"{_num(row.capaian)} % ({row.formula})",
              unless=("computed_as_if_higher_were_better",)))  # that case has its own, more precise rule

rule("capaian_wrong_polarity", "error",
     "Indikator berpolaritas negatif dihitung seolah-olah makin tinggi makin baik.",
     "A negative-polarity indikator's capaian was computed as if higher were better.",
     "check_indikator_facts")(
    _cap_rule(("computed_as_if_higher_were_better",),
              lambda row: f"{row.name} {row.year}: target {row.target.raw}, realisasi {row.realisasi.raw}, reported "
                          f"{_num(row.reported)} % is realisasi/target; lower is better here, so capaian is "
                          f"{_num(row.capaian)} %"))

rule("polaritas_mismatch", "warning",
     "Polaritas yang dinyatakan bertentangan dengan makna indikator (mis. kemiskinan mestinya negatif).",
     "The declared polaritas contradicts what the indikator measures (e.g. poverty is lower-is-better).",
     "check_indikator_facts")(
    _cap_rule(("polaritas_declared_positif_expected_negatif",),
              lambda row: f"{row.name}: declared positif, but lower is better for it (negatif)"))

rule("capaian_unrealistic", "warning",
     "Capaian di luar batas wajar (target tidak realistis atau realisasi kumulatif).",
     "Capaian outside realistic bounds (an unrealistic target, or a cumulated realisasi).",
     "check_indikator_facts")(
    _cap_rule(("above_realistic_bounds", "below_realistic_bounds"),
              lambda row: f"{row.name} {row.year}: capaian {_num(row.capaian)} % is outside the realistic bounds"))


@rule("target_below_realisasi", "warning",
      "Target lebih rendah dari realisasi tahun sebelumnya (untuk indikator negatif: lebih tinggi); target tidak menantang.",
      "A year's target is below the realisasi already reached the year before (above it, for a negatif indikator).",
      "check_indikator_facts")
def _target_below_realisasi(ctx: Context, r: Rule) -> list[Finding]:
    from service.capaian import unambitious_targets

    capaian_rows(ctx)  # resolves each indikator's polaritas where it has a capaian; the rest resolve their own
    used = ctx.__dict__["_polaritas_used"]
    out = []
    for k, (row, values) in enumerate(_realised(ctx)):
        for year, target, before, pol in unambitious_targets(row["name"], row["statement"], row["polaritas"], values,
                                                             polaritas=used.get(k)):
            word = "below" if pol == "positif" else "above"
            out.append(r.finding(ctx, row["plan"], [row["id"]],
                                 f"{row['name']}: target {year} {target.raw} is {word} the realisasi {year - 1} "
                                 f"{before.raw} ({pol}: the target asks for less than was reached)",
                                 indikator=row["name"], year=year, target=target.raw, realisasi=before.raw, polaritas=pol))
    return out


@rule("scale_gaps", "warning",
      "Skala predikat yang dipakai dokumen tidak utuh: ada nilai capaian tanpa predikat, atau dengan dua.",
      "The predikat scale the document uses is not whole: some capaian get no predikat, or two.",
      "list_plan_scales")
def _scale_gaps(ctx: Context, r: Rule) -> list[Finding]:
    from service import capaian

    scales = capaian.load_config(ctx.config.get("capaian_config")).scales
    out = []
    for row in ctx.rows("list_plan_scales"):
        scale = scales.get(row["scale"])
        if scale is None:
            out.append(r.finding(ctx, row["plan"], [], f"the plan names predikat scale {row['scale']!r}, which is not "
                                                       f"configured (known: {', '.join(scales)})", scale=row["scale"]))
        elif gaps := capaian.scale_gaps(scale):
            out.append(r.finding(ctx, row["plan"], [], f"the document's predikat scale ({scale.title or scale.name}) is not "
                                                       f"whole: {'; '.join(gaps)}", scale=row["scale"], gaps=gaps))
    return out


# which rules skip an element whose document does not give an aspect (the message of document_gap names them)
SKIPPED_BY_ASPECT = {"statement": ["condition_wording"], "parents": ["orphan", "no_parent"], "below": ["dead_end"],
                     "indikator": ["missing_indikator"], "target": ["missing_target"], "anggaran": ["unfunded_leaf"],
                     "jabatan": ["no_owner", "owner_level"]}


@rule("document_gap", "info",
      "Bagian yang tidak diberikan dokumen (hilang saat konversi, atau bukan isi jenis dokumen ini): aturan yang "
      "memerlukannya melewati elemen itu.",
      "What the document does not give (lost in its conversion, or not part of its kind): the rules that need it "
      "skip those elements.",
      "list_absent")
def _document_gap(ctx: Context, r: Rule) -> list[Finding]:
    by_plan: dict[str, dict[str, int]] = {}
    for (plan, _), gone in _absent_map(ctx).items():
        for aspect in gone:
            by_plan.setdefault(plan, {}).setdefault(aspect, 0)
            by_plan[plan][aspect] += 1
    whole, kinds = ctx.__dict__["_absent_by_plan"], ctx.__dict__["_absent_by_kind"]
    out = []
    for plan in ctx.plan_ids:
        every = sorted(whole.get(plan, ()))
        counts = {a: n for a, n in by_plan.get(plan, {}).items() if a not in every}
        if not counts and not every:
            continue
        by_kind = sorted(kinds.get(plan, frozenset()))
        parts = [f"{a} of {n} element(s)" for a, n in sorted(counts.items())]
        parts += [f"{a} of every element" + (f" (not part of a document of kind {ctx.kind[plan]})" if a in by_kind else "")
                  for a in every]
        skipped = sorted({x for a in [*counts, *every] for x in SKIPPED_BY_ASPECT[a]})
        out.append(r.finding(ctx, plan, [], f"the document does not give: {'; '.join(parts)}. Skipped there: "
                                            f"{', '.join(skipped)}",
                             absent=dict(sorted(counts.items())), absent_everywhere=every, skipped=skipped))
    return out


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the block runs (and back on after the last of several
    blocks running at once, if it was on before the first).

    A kabupaten check allocates about 150,000 containers (rows, findings, capaian rows), nearly none
    in a cycle: the collector ran some 200 times per check and took 15 ms of a 108 ms check in a
    server process (whose startup objects are frozen out of its view), 52 of 146 ms in a CLI one.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def run_checks_many(store: GraphStore, plan_ids: list[str], config: dict[str, Any] | None = None,
                    only: list[str] | None = None) -> list[CheckReport]:
    """Run every registered rule (or those named in `only`) over several plans at once: one query per
    rule for all of them (a whole pemda in one go), then one report per plan, in the order given.

    Raises:
        NotFound: a plan is not loaded.
        QueryError: `only` names a rule that does not exist (empty names, as a form sends them, are ignored).
    """
    only = [r for r in only or () if r.strip()] or None
    unknown = sorted({r for r in only or () if r not in RULES})
    if unknown:
        raise QueryError(f"no rule {unknown[0]!r}; known: {', '.join(RULES)}")
    with gc_paused():
        return _run_checks_many(store, plan_ids, config, only)


# how many times a check starts again when a plan it reads is replaced while its rules run
CHECK_ATTEMPTS = 3


def _versions(rows: list[dict[str, Any]]) -> dict[str, str | None]:
    return {r["id"]: r["loaded_at"] for r in rows}


def _run_checks_many(store: GraphStore, plan_ids: list[str], config: dict[str, Any] | None,
                     only: list[str] | None) -> list[CheckReport]:
    plan_ids = list(dict.fromkeys(plan_ids))
    config = config or load_config()
    first = {q: k for k, q in enumerate(READ_FIRST)}
    rules = sorted((r for rid, r in RULES.items() if not only or rid in only), key=lambda r: first.get(r.query, len(first)))
    for _ in range(CHECK_ATTEMPTS):
        plans = store.read("get_plans_exist", plan_ids=plan_ids)
        versions = _versions(plans)
        missing = [p for p in plan_ids if p not in versions]
        if missing:
            raise NotFound(f"no plan {missing[0]!r} is loaded")
        ctx = Context(store, plan_ids, config, tahun={r["id"]: r["tahun"] for r in plans},
                      kind={r["id"]: r["kind"] for r in plans})
        by_plan: dict[str, list[Finding]] = {p: [] for p in plan_ids}
        # Every query is sent ahead at once, in the order the rules read them: Python turns one reply into
        # findings while the engine computes the next rows. The plans' versions come last: each rule
        # reads in a statement of its own, and a plan replaced between two of them mixes two versions.
        first_of_all = [("list_absent", {})] if any(r.query in READS_ABSENT for r in rules) else []
        ctx.read_ahead([*first_of_all, *((q, r.params(ctx)) for r in rules for q in (r.query, *READS_ALSO.get(r.query, ()))),
                        ("get_plans_exist", {})])
        try:
            for r in rules:
                for f in r.run(ctx, r):
                    by_plan[f.plan].append(f)  # every rule names the plan of its findings (Rule.finding)
            unchanged = _versions(ctx.rows("get_plans_exist")) == versions
        finally:
            ctx.close()
        if unchanged:
            break
    else:
        raise Busy(f"the plans checked were replaced {CHECK_ATTEMPTS} times while they were checked; try again")
    infos = [r.info(ctx) for r in RULES.values()]
    reports = []
    for p in plan_ids:
        findings = by_plan[p]
        findings.sort(key=lambda f: (-SEVERITY_ORDER[f.severity], f.rule, f.node_ids, f.message))
        reports.append(CheckReport(plan=p, findings=findings, rules=infos))
    return reports


def total_counts(reports: list[CheckReport]) -> dict[str, int]:
    """Findings per severity over several reports."""
    out = {"error": 0, "warning": 0, "info": 0}
    for r in reports:
        for k, v in r.counts().items():
            out[k] += v
    return out


def run_checks(store: GraphStore, plan_id: str, config: dict[str, Any] | None = None,
               only: list[str] | None = None) -> CheckReport:
    """Run every registered rule (or those named in `only`) on one plan.

    Raises:
        NotFound: the plan is not loaded.
    """
    return run_checks_many(store, [plan_id], config, only)[0]


def plans_of_pemda(store: GraphStore, pemda: str) -> list[str]:
    """Ids of the loaded plans of a pemda (its name as the plans give it, e.g. 'Kabupaten Buleleng').

    Raises:
        NotFound: no plan of that pemda is loaded.
    """
    ids = [r["id"] for r in store.read("list_plan_ids_of_pemda", pemda=pemda)]
    if ids:
        return ids
    # not as written: the same name in another case or spacing, or else the names nearest to it
    import difflib

    names = sorted({p.pemda for p in list_plans(store)})
    same = [n for n in names if " ".join(n.split()).casefold() == " ".join(pemda.split()).casefold()]
    if same:
        return [r["id"] for r in store.read("list_plan_ids_of_pemda", pemda=same[0])]
    near = difflib.get_close_matches(pemda, names, n=5, cutoff=0.5)
    raise NotFound(f"no plan of pemda {pemda!r} is loaded" + (f"; did you mean: {', '.join(near)}" if near else ""))


def to_csv(report: CheckReport | list[CheckReport], cell: Callable[[str], str] = str) -> str:
    """The findings as CSV, each cell through `cell` (the downloads guard text a spreadsheet would run)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["plan", "rule", "severity", "node_ids", "message"])
    for r in report if isinstance(report, list) else [report]:
        for f in r.findings:
            w.writerow([cell(v) for v in (r.plan, f.rule, f.severity, " ".join(f.node_ids), f.message)])
    return buf.getvalue()
