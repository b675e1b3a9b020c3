"""Capaian (achievement) of indicators, its predikat, and the roll-up over a plan (RULES.md §3, §7, §8).

Pure functions and pydantic models. The only I/O is reading the configuration and the predikat scales
(service/data/predikat_scales.yaml, optionally overlaid by another file, see load_config).

Formulas (RULES §8.1), with T the target and R the realisasi:

- positif (higher is better): R / T x 100
- negatif (lower is better): (2T - R) / T x 100, floored at 0 (default, "2t_minus_r"), or T / R x 100 ("t_over_r")
- range target [lo, hi]: inside -> 100; outside, the nearer bound is the target of the formula above
- T = 0: negatif R = 0 -> 100, R > 0 -> 0 (flagged); positif undefined (None, flagged)
"""

from __future__ import annotations

import copy
import math
from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import from_json

from service.errors import PokinError, QueryError
from service.loading import element_row, indikator_row, uid
from service.models import IndikatorOut, Nilai, PlanDocument, PlanSummary, PlanTree, TreeElement
from service.plans import COUNT_KEYS, element_out

SCALES_FILE = Path(__file__).resolve().parent / "data" / "predikat_scales.yaml"

POLARITAS = ("positif", "negatif", "range")
NegatifFormula = Literal["2t_minus_r", "t_over_r"]
NEGATIF_FORMULAS: tuple[str, ...] = get_args(NegatifFormula)
Aggregate = Literal["mean", "indicator_mean"]
Basis = Literal["computed", "expected_polaritas", "reported"]
PolaritasSource = Literal["declared", "expected", "expected_over_declared", "default"]

# RULES §7 check 21: indicator names that measure something where lower is better.
NEGATIF_NAME_WORDS = (
    "penduduk miskin", "kemiskinan", "angka kematian", "jumlah kasus", "prevalensi", "tingkat pengangguran",
    "waktu penyelesaian",
)
# A sasaran stated as a decrease: its indicators measure something where lower is better.
NEGATIF_STATEMENT_STARTS = ("menurunnya", "berkurangnya", "turunnya")
# Words that make an indicator a measure of the reduction or of the handling itself ("Persentase penurunan
# angka kemiskinan", "Cakupan penanganan kemiskinan"): higher is better there, so no negatif is implied.
REDUCTION_WORDS = ("penurunan", "pengurangan", "pengentasan", "penanganan", "penanggulangan", "tertangani", "cakupan")


class CapaianConfigError(PokinError):
    """The capaian configuration or a predikat scale file cannot be used."""

    code = "invalid_capaian_config"


# The flags in Indonesian, for the pages and the workbook, with how much each matters (error, warning or
# info: the colour of its pill; 'to check' counts the first two).
FLAG_WORDS: dict[str, tuple[str, str]] = {
    "reported_differs": ("berbeda dari yang dilaporkan", "error"),
    "computed_as_if_higher_were_better": ("dilaporkan seolah makin tinggi makin baik", "error"),
    "polaritas_declared_positif_expected_negatif": ("dinyatakan positif, mestinya negatif", "warning"),
    "polaritas_missing_assumed_positif": ("tanpa polaritas, dianggap positif", "warning"),
    "polaritas_undeclared": ("polaritas tidak dinyatakan", "info"),
    "above_realistic_bounds": ("di atas batas wajar", "warning"),
    "below_realistic_bounds": ("di bawah batas wajar", "warning"),
    "over_achievement": ("melampaui target", "info"),
    "floored_at_zero": ("di bawah 0, dibulatkan ke 0", "info"),
    "range_target": ("target rentang", "info"),
    "inside_range": ("di dalam rentang", "info"),
    "target_not_wellformed": ("target tidak ditulis rapi", "warning"),
    "realisasi_not_wellformed": ("realisasi tidak ditulis rapi", "warning"),
    "unit_mismatch": ("satuan target dan realisasi berbeda", "warning"),
    "target_zero": ("target 0 dan realisasi 0", "info"),
    "target_zero_positif_undefined": ("target 0: tidak dapat dihitung", "warning"),
    "target_zero_realisasi_above_zero": ("target 0, realisasi di atasnya", "warning"),
    "realisasi_zero_t_over_r_undefined": ("realisasi 0: T/R tidak dapat dihitung", "warning"),
    "target_missing": ("target tanpa angka", "warning"),
    "realisasi_missing": ("realisasi tanpa angka", "warning"),
    "realisasi_is_range": ("realisasi berupa rentang", "warning"),
    "capaian_not_finite": ("terlalu besar untuk dihitung", "warning"),
    "cap_applied": ("ada indikator yang dibatasi", "info"),
    "top_predikat_while_every_indikator_below_100": ("predikat tertinggi padahal semua indikator di bawah 100", "warning"),
    "realisasi_above_pagu": ("realisasi anggaran melebihi pagu", "error"),
    "pagu_missing": ("realisasi tanpa pagu", "warning"),
    "pagu_zero": ("pagu 0", "warning"),
    "anggaran_not_wellformed": ("rupiah tidak ditulis rapi", "warning"),
}
POLARITAS_SOURCE_WORDS = {"declared": "dinyatakan", "expected": "dari nama indikator",
                          "default": "anggapan (tidak dinyatakan)", "expected_over_declared": "dokumen: positif; dihitung negatif"}


# ---- scales ------------------------------------------------------------------------------------------


class Interval(BaseModel):
    """One predikat over capaian values: [lo, hi) unless the inclusive flags say otherwise; hi None = no bound."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    predikat: str = Field(min_length=1)
    lo: float
    hi: float | None = None
    lo_inclusive: bool = True
    hi_inclusive: bool = False

    def contains(self, x: float) -> bool:
        above_lo = x >= self.lo if self.lo_inclusive else x > self.lo
        if not above_lo:
            return False
        if self.hi is None:
            return True
        return x <= self.hi if self.hi_inclusive else x < self.hi

    def describe(self) -> str:
        left = "[" if self.lo_inclusive else "("
        right = ")" if self.hi is None else ("]" if self.hi_inclusive else ")")
        hi = "inf" if self.hi is None else _fmt(self.hi)
        return f"{self.predikat!r} {left}{_fmt(self.lo)}, {hi}{right}"


class PredikatScale(BaseModel):
    """A predikat scale as data (RULES §8.2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    title: str | None = None
    source: str | None = None
    note: str | None = None
    intervals: list[Interval] = Field(min_length=1)

    @property
    def top(self) -> str:
        """The best predikat: the interval that reaches highest."""
        return max(self.intervals, key=lambda i: (math.inf if i.hi is None else i.hi, i.lo)).predikat


def predikat(value: float | None, scale: PredikatScale) -> str | None:
    """The predikat of a capaian on a scale; None for no value or a value in a gap of the scale."""
    if value is None or math.isnan(value):
        return None
    for interval in scale.intervals:
        if interval.contains(value):
            return interval.predikat
    return None


def scale_gaps(scale: PredikatScale) -> list[str]:
    """Where a scale is not contiguous, overlaps, or does not cover [0, inf) (RULES §7 check 29); [] when well-formed."""
    problems: list[str] = []
    for iv in scale.intervals:
        if iv.hi is not None and (iv.hi < iv.lo or (iv.hi == iv.lo and not (iv.lo_inclusive and iv.hi_inclusive))):
            problems.append(f"empty interval {iv.describe()}")
    ivs = sorted(scale.intervals, key=lambda i: (i.lo, not i.lo_inclusive))
    first = ivs[0]
    if first.lo > 0:
        problems.append(f"gap below {_fmt(first.lo)}: no predikat for capaian from 0 up to {first.describe()}")
    elif first.lo == 0 and not first.lo_inclusive:
        problems.append(f"gap at exactly 0: {first.describe()} excludes it")
    reach = first  # the interval that reaches highest so far
    for b in ivs[1:]:
        a = reach
        if a.hi is None:
            problems.append(f"overlap from {_fmt(b.lo)}: both {a.describe()} and {b.describe()}")
        elif a.hi < b.lo:
            problems.append(f"gap between {_fmt(a.hi)} and {_fmt(b.lo)}: no predikat between {a.describe()} and {b.describe()}")
        elif a.hi > b.lo:
            problems.append(f"overlap between {_fmt(b.lo)} and {_fmt(a.hi)}: both {a.describe()} and {b.describe()}")
        elif not a.hi_inclusive and not b.lo_inclusive:
            problems.append(f"gap at exactly {_fmt(b.lo)}: neither {a.describe()} nor {b.describe()} includes it")
        elif a.hi_inclusive and b.lo_inclusive:
            problems.append(f"overlap at exactly {_fmt(b.lo)}: both {a.describe()} and {b.describe()} include it")
        if a.hi is not None and (b.hi is None or b.hi > a.hi):
            reach = b
    if reach.hi is not None:
        above = "above" if reach.hi_inclusive else "at and above"
        problems.append(f"gap {above} {_fmt(reach.hi)}: no predikat beyond {reach.describe()}")
    return problems


# ---- configuration -----------------------------------------------------------------------------------


class CapaianConfig(BaseModel):
    """How capaian is computed, rated and rolled up (RULES §8.3); the scales travel with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale: str = "permendagri86"
    negatif_formula: NegatifFormula = "2t_minus_r"
    aggregate: Aggregate = "mean"
    basis: Basis = "computed"
    cap: float | None = Field(default=120, gt=0)
    realistic: tuple[float, float] = (50, 120)
    tolerance: float = Field(default=0.5, ge=0)
    scales: dict[str, PredikatScale] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> CapaianConfig:
        if self.scale not in self.scales:
            raise ValueError(f"scale {self.scale!r} is not defined (defined: {', '.join(sorted(self.scales)) or 'none'})")
        if self.realistic[0] > self.realistic[1]:
            raise ValueError(f"realistic bounds {list(self.realistic)} are reversed")
        return self

    @property
    def active_scale(self) -> PredikatScale:
        return self.scales[self.scale]

    def settings(self) -> dict[str, Any]:
        """The configuration without the scales, as a report carries it."""
        return self.model_dump(mode="json", exclude={"scales"})


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as e:
        raise CapaianConfigError(f"{path}: cannot read: {e}") from e
    return copy.deepcopy(_read_yaml_cached(str(path), mtime))


@lru_cache(maxsize=16)
def _read_yaml_cached(path: str, mtime: int) -> dict[str, Any]:
    """Parse a YAML file once per version (checks read the scales on every run)."""
    return _parse_yaml(Path(path))


def _parse_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise CapaianConfigError(f"{path}: cannot read: {e}") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CapaianConfigError(f"{path}: expected a mapping with 'default' and/or 'scales'")
    unknown = set(data) - {"default", "scales"}
    if unknown:
        raise CapaianConfigError(f"{path}: unknown top-level keys {sorted(unknown)}; expected 'default' and/or 'scales'")
    return data


def load_config(path: Path | None = None) -> CapaianConfig:
    """The bundled configuration and scales, overlaid by `path` when given.

    The overlay file has the same shape: its `default` keys replace the bundled ones, its `scales`
    are added (a scale with a bundled name replaces it).

    Raises:
        CapaianConfigError: a file that cannot be read or does not validate.
    """
    base = _read_yaml(SCALES_FILE)
    default = dict(base.get("default") or {})
    scales = dict(base.get("scales") or {})
    files = [SCALES_FILE]
    if path is not None:
        extra = _read_yaml(Path(path))
        default.update(extra.get("default") or {})
        scales.update(extra.get("scales") or {})
        files.append(Path(path))
    try:
        parsed = {name: PredikatScale(**{**(s or {}), "name": name}) for name, s in scales.items()}
        return CapaianConfig(**default, scales=parsed)
    except (ValidationError, TypeError) as e:
        raise CapaianConfigError(f"{' + '.join(map(str, files))}: {e}") from e


def chosen(config: CapaianConfig, scale: str | None = None, negatif_formula: str | None = None) -> CapaianConfig:
    """`config` with the predikat scale and the negatif formula a request chose (None or empty: as
    configured; a form sends an empty value for a choice left alone).

    Raises:
        QueryError: an unknown scale or formula, naming the known ones.
    """
    update: dict[str, Any] = {}
    if scale:
        if scale not in config.scales:
            raise QueryError(f"unknown scale {scale!r}; known: {', '.join(sorted(config.scales))}")
        update["scale"] = scale
    if negatif_formula:
        if negatif_formula not in NEGATIF_FORMULAS:
            raise QueryError(f"unknown negatif formula {negatif_formula!r}; known: {', '.join(NEGATIF_FORMULAS)}")
        update["negatif_formula"] = negatif_formula
    return config.model_copy(update=update) if update else config


# ---- one capaian -------------------------------------------------------------------------------------


@dataclass(slots=True)
class CapaianValue:
    """A computed capaian: value (None when it cannot be computed, with the reason), formula and flags.
    A plain dataclass: a check of a pemda computes thousands (a pydantic model cost 10x more)."""

    polaritas: str
    value: float | None = None
    formula: str | None = None
    expression: str | None = None
    flags: list[str] = field(default_factory=list)
    reason: str | None = None


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _settle(v: float) -> float:
    """A computed capaian without the binary floating-point noise of its division: 5,43 of 6 is 90.5, not
    90.49999999999999, which fell below a scale's 90.5 boundary (nine decimals: far below any figure a
    document prints, far above the noise)."""
    return round(v, 9) if math.isfinite(v) else v


def _point(pol: str, t: float, r: float, negatif_formula: str, flags: list[str],
           explain: bool = True) -> tuple[float | None, str, str | None, str | None]:
    """Capaian against a single target value: (value, formula, expression, reason when None); the
    expression (the formula with the numbers) only when `explain`."""
    if pol == "positif":
        if t == 0:
            flags.append("target_zero_positif_undefined")
            return (None, "R / T x 100", f"{_fmt(r)} / 0 x 100" if explain else None,
                    "positif capaian is undefined for a target of 0")
        v = _settle(r / t * 100)
        return v, "R / T x 100", f"{_fmt(r)} / {_fmt(t)} x 100 = {v:.2f}" if explain else None, None
    if t == 0:
        if r == 0:
            flags.append("target_zero")
            return 100.0, "T = 0 and R = 0 -> 100", "target 0, realisasi 0 -> 100" if explain else None, None
        flags.append("target_zero_realisasi_above_zero")
        return 0.0, "T = 0 and R > 0 -> 0", f"target 0, realisasi {_fmt(r)} -> 0" if explain else None, None
    if negatif_formula == "t_over_r":
        if r == 0:
            flags.append("realisasi_zero_t_over_r_undefined")
            return (None, "T / R x 100", f"{_fmt(t)} / 0 x 100" if explain else None,
                    "T / R is undefined for a realisasi of 0")
        v = _settle(t / r * 100)
        return v, "T / R x 100", f"{_fmt(t)} / {_fmt(r)} x 100 = {v:.2f}" if explain else None, None
    v = _settle((2 * t - r) / t * 100)
    expr = f"(2 x {_fmt(t)} - {_fmt(r)}) / {_fmt(t)} x 100 = {v:.2f}" if explain else None
    if v < 0:
        flags.append("floored_at_zero")
        if expr is not None:
            expr += " -> 0"
        v = 0.0
    return v, "(2T - R) / T x 100, floor 0", expr, None


def _unit(n: Nilai | NilaiView) -> str:
    return "".join(n.unit.split()).lower()


def capaian(target: Nilai | NilaiView, realisasi: Nilai | NilaiView, polaritas: str | None,
            negatif_formula: NegatifFormula = "2t_minus_r", explain: bool = True) -> CapaianValue:
    """Capaian in percent of a realisasi against a target, per RULES §8.1.

    `polaritas` is positif, negatif or range (None is taken as positif and flagged). A range target (lo-hi)
    follows the range rule for positif and negatif; polaritas "range" means "stay inside": below the band
    the positif formula applies with T = lo, above it the negatif formula with T = hi (a single target T is
    the band [T, T]).

    `explain` False leaves `expression` None (capaian_rows does not keep it, and a check computes thousands).

    Raises:
        ValueError: an unknown polaritas or negatif formula.
    """
    flags: list[str] = []
    if polaritas is None:
        pol = "positif"
        flags.append("polaritas_missing_assumed_positif")
    else:
        pol = str(polaritas)
    if pol not in POLARITAS:
        raise ValueError(f"unknown polaritas {polaritas!r}; expected one of {', '.join(POLARITAS)}")
    if negatif_formula not in NEGATIF_FORMULAS:
        raise ValueError(f"unknown negatif formula {negatif_formula!r}; expected 2t_minus_r or t_over_r")
    if not target.wellformed:
        flags.append("target_not_wellformed")
    if not realisasi.wellformed:
        flags.append("realisasi_not_wellformed")
    unit_t = _unit(target)
    if unit_t and (unit_r := _unit(realisasi)) and unit_t != unit_r:
        flags.append("unit_mismatch")

    def none(reason: str, flag: str) -> CapaianValue:
        return CapaianValue(value=None, polaritas=pol, flags=[*flags, flag], reason=reason)

    is_range = target.lo is not None and target.hi is not None
    if target.value is None and not is_range:
        return none(f"no target value ({target.raw!r})", "target_missing")
    if realisasi.value is None:
        if realisasi.lo is not None:
            return none(f"realisasi is a range ({realisasi.raw!r}); capaian needs one value", "realisasi_is_range")
        return none(f"no realisasi value ({realisasi.raw!r})", "realisasi_missing")
    r = realisasi.value

    if not is_range and pol != "range":
        assert target.value is not None
        v, formula, expr, reason = _point(pol, target.value, r, negatif_formula, flags, explain)
        if v is not None and not math.isfinite(v):
            return none(f"capaian too large to compute (target {target.raw!r}, realisasi {realisasi.raw!r})", "capaian_not_finite")
        return CapaianValue(value=v, polaritas=pol, formula=formula, expression=expr, flags=flags, reason=reason)

    if is_range:
        assert target.lo is not None and target.hi is not None
        lo, hi = sorted((target.lo, target.hi))
        flags.append("range_target")
    else:
        assert target.value is not None
        lo = hi = target.value
    band = f"[{_fmt(lo)}, {_fmt(hi)}]"
    if lo <= r <= hi:
        flags.append("inside_range")
        return CapaianValue(value=100.0, polaritas=pol, formula=f"R inside {band} -> 100",
                            expression=f"{_fmt(r)} inside {band} -> 100" if explain else None, flags=flags)
    if r > hi:
        side, bound, inner = "above", hi, ("positif" if pol == "positif" else "negatif")
    else:
        side, bound, inner = "below", lo, ("negatif" if pol == "negatif" else "positif")
    v, formula, expr, reason = _point(inner, bound, r, negatif_formula, flags, explain)
    if v is not None and not math.isfinite(v):
        return none(f"capaian too large to compute (target {target.raw!r}, realisasi {realisasi.raw!r})", "capaian_not_finite")
    which = "hi" if side == "above" else "lo"
    return CapaianValue(value=v, polaritas=pol, formula=f"R {side} {band}: {formula} with T = {which}",
                        expression=expr, flags=flags, reason=reason)


# ---- polarity expected from the wording --------------------------------------------------------------


@lru_cache(maxsize=16384)  # pure; the same indikator names and statements recur across plans
def expected_polaritas(indikator_name: str, sasaran_statement: str | None = None) -> str | None:
    """The polaritas the wording implies (RULES §7 check 21): "negatif", or None when nothing is implied.

    A name with "penduduk miskin", "kemiskinan", "angka kematian", "jumlah kasus", "prevalensi",
    "tingkat pengangguran" or "waktu penyelesaian" is negatif; so is every indicator of a sasaran stated
    as a decrease ("Menurunnya ...", "Berkurangnya ...", "Turunnya ..."). A name that measures the reduction
    or the handling itself ("penurunan", "pengurangan", "pengentasan", "penanganan", "penanggulangan",
    "tertangani", "cakupan") implies nothing: there higher is better.
    """
    name = " ".join(indikator_name.lower().split())
    if any(w in name for w in REDUCTION_WORDS):
        return None
    if any(w in name for w in NEGATIF_NAME_WORDS):
        return "negatif"
    if sasaran_statement and sasaran_statement.strip().lower().startswith(NEGATIF_STATEMENT_STARTS):
        return "negatif"
    return None


# ---- a plan's tree without a store -------------------------------------------------------------------


def tree_from_document(doc: PlanDocument) -> PlanTree:
    """The PlanTree that service.plans.get_tree returns once `doc` is loaded, built without a store.

    Goes through the same rows the loader writes (service.loading) and the same conversion the store read
    uses (service.plans), so indikator ids ("i1", ...), values and parents read the same.
    """
    pid = doc.plan.id
    local = {el.id for el in doc.elements}
    jabatan_names = {jb.id: jb.name for jb in doc.jabatan}
    elements: list[TreeElement] = []
    for seq, el in enumerate(doc.elements):
        parents = [p if "/" in p else uid(pid, p) for p in el.parents]
        rows = [indikator_row(pid, el, k, ind) for k, ind in enumerate(el.indikator)]
        elements.append(element_out(pid, element_row(pid, seq, el), parents, rows,
                                    [{"id": j, "name": jabatan_names[j]} for j in el.jabatan]))
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for el in doc.elements:
        counts[el.level.value] += 1
    counts["indikator"] = sum(len(el.indikator) for el in doc.elements)
    counts["jabatan"] = len(doc.jabatan)
    # As cypher/list_plans.cypher: the pagu of budgeted elements with no budgeted ancestor in the same plan.
    by_id = {el.id: el for el in doc.elements}

    def budgeted_ancestor(eid: str, seen: set[str]) -> bool:
        for p in by_id[eid].parents:
            if p in local and p not in seen:
                seen.add(p)
                a = by_id[p].anggaran
                if (a is not None and a.pagu is not None) or budgeted_ancestor(p, seen):
                    return True
        return False

    budgeted = [el for el in doc.elements if el.anggaran is not None and el.anggaran.pagu is not None]
    total = sum(el.anggaran.pagu for el in budgeted if not budgeted_ancestor(el.id, set())) if budgeted else None  # type: ignore[union-attr, misc]
    m = doc.plan
    summary = PlanSummary(id=m.id, pemda=m.pemda, perangkat_daerah=m.perangkat_daerah, tahun=m.tahun, periode=m.periode,
                          kind=m.kind.value, title=m.title, source_document=m.source_document, counts=counts,
                          anggaran_total=total)
    return PlanTree(plan=summary, elements=elements)


# ---- a plan's capaian --------------------------------------------------------------------------------


class IndikatorCapaian(BaseModel):
    """One indicator in one year: computed, as if positif, with the expected polaritas, and as reported."""

    element_id: str
    indikator_id: str
    name: str
    year: int
    target: Nilai
    realisasi: Nilai
    polaritas: str  # the polaritas used for `capaian`
    polaritas_source: PolaritasSource  # declared in the document, expected from the wording, or positif by default
    expected_polaritas: str | None = None
    capaian: float | None = None
    formula: str | None = None
    reason: str | None = None  # why capaian is None
    capaian_if_positif: float | None = None
    capaian_expected_polaritas: float | None = None  # with expected_polaritas, where one is expected
    reported: float | None = None  # the capaian the document reports
    difference: float | None = None  # reported - capaian
    predikat: str | None = None
    flags: list[str] = Field(default_factory=list)


class ElementCapaian(BaseModel):
    """The roll-up of one element (or of the whole plan: element_id None, level "plan") in one year."""

    element_id: str | None
    level: str
    statement: str
    year: int
    mean: float | None = None
    mean_capped: float | None = None  # each indicator capped at config.cap first; = mean when there is no cap
    n: int = 0  # indicators with a value below this element (each counted once)
    below_100: int = 0
    min: float | None = None
    max: float | None = None
    predikat: str | None = None  # of mean_capped on the configured scale
    flags: list[str] = Field(default_factory=list)


class KeuanganRow(BaseModel):
    """Realisasi anggaran of one element (or of the whole plan: element_id None, level "plan"), as the LKjIP's
    "Realisasi Anggaran" table has it: pagu, realisasi and capaian keuangan = realisasi / pagu x 100, beside
    the element's capaian kinerja (its roll-up, capped as configured) in the plan's year."""

    element_id: str | None
    level: str
    statement: str
    code: str | None = None
    pagu: float | None = None
    realisasi: float | None = None
    capaian_keuangan: float | None = None
    capaian_kinerja: float | None = None
    sasaran: list[str] = Field(default_factory=list)  # the sasaran of the plan it supports (the table groups by them)
    flags: list[str] = Field(default_factory=list)


class CapaianReport(BaseModel):
    plan: str
    scale: str
    config: dict[str, Any]
    indikator: list[IndikatorCapaian]
    elements: list[ElementCapaian]
    keuangan: list[KeuanganRow] = Field(default_factory=list)
    tahun: int | None = None  # the plan's year: the year keuangan's capaian kinerja are of


def _resolve_polaritas(declared: str | None, expected: str | None) -> tuple[str, PolaritasSource]:
    # A clearly lower-is-better indicator is never computed with R/T, whatever the document declares
    # (RULES R3.4: "never use R3.1 for a negative indicator"); the contradiction is flagged.
    if declared == "positif" and expected == "negatif":
        return expected, "expected_over_declared"
    if declared:
        return declared, "declared"
    if expected:
        return expected, "expected"
    return "positif", "default"


def indikator_capaian(element: TreeElement, config: CapaianConfig) -> list[IndikatorCapaian]:
    """The capaian rows of one element: every indicator and year with both a target and a realisasi."""
    return indikator_rows(element.id, element.statement, element.indikator, config)


def indikator_rows(element_id: str, statement: str, indikator: list[IndikatorOut],
                   config: CapaianConfig) -> list[IndikatorCapaian]:
    """The capaian rows of indikator of one element (id and statement: the polaritas hints read it)."""
    return [IndikatorCapaian(**r._asdict()) for r in capaian_rows(element_id, statement, indikator, config)]


class CapaianRow(NamedTuple):
    """An IndikatorCapaian as a plain tuple (the same fields, in order): the checks compute thousands per
    run and read a few fields of each, where building the model was 40 % of their capaian time."""

    element_id: str
    indikator_id: str
    name: str
    year: int
    target: Any  # Nilai, or a NilaiView
    realisasi: Any
    polaritas: str
    polaritas_source: PolaritasSource
    expected_polaritas: str | None
    capaian: float | None
    formula: str | None
    reason: str | None
    capaian_if_positif: float | None
    capaian_expected_polaritas: float | None
    reported: float | None
    difference: float | None
    predikat: str | None
    flags: list[str]


# A stored Nilai as the capaian formulas read it, without validating it again (the loader did): a tuple
# with Nilai's fields and defaults, made from them so the two cannot drift apart.
NilaiView = namedtuple("NilaiView", list(Nilai.model_fields),  # type: ignore[misc]
                       defaults=[f.default for f in list(Nilai.model_fields.values())[1:]])


def stored_values(row: dict[str, Any]) -> dict[str, Any]:
    """An indikator row's values_json parsed: {"target"|"realisasi"|"capaian": {year text: Nilai fields}}."""
    # pydantic's JSON parser: the same values as json.loads (tested), in half the time
    return from_json(row.get("values_json") or "{}")


def _same_unit(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return "".join(a.get("unit", "").split()).lower() == "".join(b.get("unit", "").split()).lower()


def unambitious_targets(name: str, statement: str | None, declared: str | None, values: dict[str, Any],
                        polaritas: str | None = None) -> list[tuple[int, NilaiView, NilaiView, str]]:
    """Targets set below what was already reached (RULES §7 check 23, LKE A2.9): (year, its target, the
    realisasi of the year before, polaritas) for every year whose target is lower than the year before's
    realisasi, or higher for a negatif indikator. The polaritas is resolved as for capaian (a poverty rate
    declared positif is negatif). Only single values in the same unit are compared: a range target, a
    missing value or another unit is left alone, as is polaritas "range". `polaritas`: the one resolved
    already (a check has it from the indikator's capaian).
    """
    realisasi = values.get("realisasi")
    if not realisasi:
        return []
    pol = polaritas
    out = []
    for year, t in values.get("target", {}).items():
        r = realisasi.get(str(int(year) - 1))
        if r is None or t.get("value") is None or r.get("value") is None or not _same_unit(t, r):
            continue
        if pol is None:
            pol, _ = _resolve_polaritas(declared, expected_polaritas(name, statement))
        if (pol == "positif" and t["value"] < r["value"]) or (pol == "negatif" and t["value"] > r["value"]):
            out.append((int(year), NilaiView(**t), NilaiView(**r), pol))
    return sorted(out, key=lambda x: x[0])


class IndikatorView(NamedTuple):
    """The fields of an IndikatorOut that capaian_rows reads, from a stored indikator row."""

    id: str
    name: str
    polaritas: str | None
    target: dict[int, NilaiView]
    realisasi: dict[int, NilaiView]
    capaian: dict[int, NilaiView]

    @classmethod
    def of(cls, row: dict[str, Any], id_key: str = "id", values: dict[str, Any] | None = None) -> IndikatorView:
        """From a row with the indikator's id (under `id_key`), name, polaritas and values_json as cypher/
        returns them (`values`: values_json parsed already, by stored_values); only the years with both a
        target and a realisasi, the ones capaian_rows reads."""
        if values is None:
            values = stored_values(row)
        target, realisasi, reported = values.get("target", {}), values.get("realisasi", {}), values.get("capaian", {})
        t, r, c = {}, {}, {}
        for y, n in target.items():
            if y in realisasi:
                year = int(y)
                t[year], r[year] = NilaiView(**n), NilaiView(**realisasi[y])
                if y in reported:
                    c[year] = NilaiView(**reported[y])
        return cls(row[id_key], row["name"], row.get("polaritas"), t, r, c)


def capaian_rows(element_id: str, statement: str, indikator: Iterable[IndikatorOut | IndikatorView],
                 config: CapaianConfig, with_predikat: bool = True) -> list[CapaianRow]:
    """indikator_rows as plain tuples (predikat left None unless with_predikat)."""
    out: list[CapaianRow] = []
    scale = config.active_scale
    tol = config.tolerance
    for ind in indikator:
        expected = expected_polaritas(ind.name, statement)
        pol, source = _resolve_polaritas(ind.polaritas, expected)
        for year in sorted(set(ind.target) & set(ind.realisasi)):
            t, r = ind.target[year], ind.realisasi[year]
            used = capaian(t, r, pol, config.negatif_formula, explain=False)
            if_pos = used if pol == "positif" else capaian(t, r, "positif", config.negatif_formula, explain=False)
            exp = None
            if expected is not None:
                exp = used if expected == pol else capaian(t, r, expected, config.negatif_formula, explain=False)
            rep_nilai = ind.capaian.get(year)
            reported = rep_nilai.value if rep_nilai is not None else None
            value = used.value
            difference = _settle(reported - value) if reported is not None and value is not None else None
            flags = list(used.flags)
            if ind.polaritas is None:  # not "source != declared": a declared polaritas overruled is still declared
                flags.append("polaritas_undeclared")
            if ind.polaritas == "positif" and expected == "negatif":
                flags.append("polaritas_declared_positif_expected_negatif")
            if difference is not None and abs(difference) > tol:
                flags.append("reported_differs")
            negatif_value = exp.value if expected == "negatif" and exp is not None else (value if pol == "negatif" else None)
            if (reported is not None and if_pos.value is not None and negatif_value is not None
                    and abs(reported - if_pos.value) <= tol and abs(negatif_value - if_pos.value) > tol):
                flags.append("computed_as_if_higher_were_better")
            if value is not None:
                lo, hi = config.realistic
                if value > hi:
                    flags.append("above_realistic_bounds")
                elif value < lo:
                    flags.append("below_realistic_bounds")
                if value > 100:
                    flags.append("over_achievement")
            out.append(CapaianRow(
                element_id, ind.id, ind.name, year, t, r, pol, source, expected, value, used.formula, used.reason,
                if_pos.value, exp.value if exp is not None else None, reported, difference,
                predikat(value, scale) if with_predikat else None, flags,
            ))
    return out


def _basis_value(row: IndikatorCapaian, basis: Basis) -> float | None:
    if basis == "reported" and row.reported is not None:
        return row.reported
    if basis == "expected_polaritas" and row.capaian_expected_polaritas is not None:
        return row.capaian_expected_polaritas
    return row.capaian


def _mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


class _Rollup:
    """The roll-up of one year over the CONTRIBUTES_TO edges inside one plan."""

    def __init__(self, tree: PlanTree, values: dict[tuple[str, str], float], config: CapaianConfig):
        self.config = config
        self.values = values
        ids = {e.id for e in tree.elements}
        self.children: dict[str, list[str]] = {e.id: [] for e in tree.elements}
        for e in tree.elements:
            for p in e.parents:
                if p in ids and e.id not in self.children[p]:
                    self.children[p].append(e.id)
        self.own = {e.id: [(e.id, i.id) for i in e.indikator if (e.id, i.id) in values] for e in tree.elements}
        self.roots = [e.id for e in tree.elements if not any(p in ids for p in e.parents)]
        self._below: dict[str, list[tuple[str, str]]] = {}
        self._means: dict[tuple[str, bool], float | None] = {}

    def value(self, key: tuple[str, str], capped: bool) -> float:
        v = self.values[key]
        cap = self.config.cap
        return min(v, cap) if capped and cap is not None else v

    def below(self, eid: str, path: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        """Every indicator with a value at or below an element, each once, in document order."""
        if eid in self._below:
            return self._below[eid]
        if eid in path:  # a cycle (invalid plan): stop here
            return []
        keys = list(self.own[eid])
        for c in self.children[eid]:
            keys.extend(k for k in self.below(c, path | {eid}) if k not in keys)
        self._below[eid] = keys
        return keys

    def mean(self, eid: str, capped: bool, path: frozenset[str] = frozenset()) -> float | None:
        if (eid, capped) in self._means:
            return self._means[eid, capped]
        if eid in path:
            return None
        if self.config.aggregate == "indicator_mean":
            m = _mean(self.value(k, capped) for k in self.below(eid))
        elif self.own[eid]:
            m = _mean(self.value(k, capped) for k in self.own[eid])
        else:
            m = _mean(v for c in self.children[eid] if (v := self.mean(c, capped, path | {eid})) is not None)
        self._means[eid, capped] = m
        return m

    def row(self, element_id: str | None, level: str, statement: str, year: int,
            keys: list[tuple[str, str]], mean: float | None, mean_capped: float | None) -> ElementCapaian:
        vals = [self.values[k] for k in keys]
        scale = self.config.active_scale
        pred = predikat(mean_capped, scale)
        flags: list[str] = []
        cap = self.config.cap
        if cap is not None and any(v > cap for v in vals):
            flags.append("cap_applied")
        if vals and all(v < 100 for v in vals) and pred == scale.top:
            flags.append("top_predikat_while_every_indikator_below_100")
        return ElementCapaian(
            element_id=element_id, level=level, statement=statement, year=year, mean=mean, mean_capped=mean_capped,
            n=len(vals), below_100=sum(v < 100 for v in vals), min=min(vals, default=None), max=max(vals, default=None),
            predikat=pred, flags=flags,
        )


def plan_capaian(tree: PlanTree, config: CapaianConfig | None = None) -> CapaianReport:
    """Capaian of every indicator of a plan, and the roll-up per element and for the whole plan.

    Each indicator is computed with its declared polaritas (undeclared: the expected one, else positif),
    and also as if positif and with the expected polaritas, next to the capaian the document reports.
    The roll-up averages, per config.basis, the computed, the expected-polaritas or the reported values,
    per config.aggregate over the CONTRIBUTES_TO edges inside the plan; the plan row (element_id None)
    averages the roots of the plan the same way.
    """
    config = config or load_config()
    rows: list[IndikatorCapaian] = []
    for el in tree.elements:
        rows.extend(indikator_capaian(el, config))
    elements: list[ElementCapaian] = []
    plan_rows: list[ElementCapaian] = []
    for year in sorted({r.year for r in rows}):
        values = {(r.element_id, r.indikator_id): v for r in rows
                  if r.year == year and (v := _basis_value(r, config.basis)) is not None}
        if not values:
            continue
        roll = _Rollup(tree, values, config)
        for el in tree.elements:
            keys = roll.below(el.id)
            if keys:
                elements.append(roll.row(el.id, el.level, el.statement, year, keys,
                                         roll.mean(el.id, False), roll.mean(el.id, True)))
        keys = list(values)
        if config.aggregate == "indicator_mean":
            m = _mean(roll.value(k, False) for k in keys)
            mc = _mean(roll.value(k, True) for k in keys)
        else:
            m = _mean(v for e in roll.roots if (v := roll.mean(e, False)) is not None)
            mc = _mean(v for e in roll.roots if (v := roll.mean(e, True)) is not None)
        plan_rows.append(roll.row(None, "plan", tree.plan.title or tree.plan.id, year, keys, m, mc))
    return CapaianReport(plan=tree.plan.id, scale=config.scale, config=config.settings(), indikator=rows,
                         elements=elements + plan_rows, keuangan=keuangan_rows(tree, elements + plan_rows),
                         tahun=tree.plan.tahun)


def _keuangan(element_id: str | None, level: str, statement: str, code: str | None, pagu: float | None,
              realisasi: float, kinerja: float | None, wellformed: bool = True,
              sasaran: list[str] | None = None) -> KeuanganRow:
    flags = [] if wellformed else ["anggaran_not_wellformed"]
    value = None
    if pagu is None:
        flags.append("pagu_missing")
    elif pagu == 0:
        flags.append("pagu_zero")
    else:
        value = realisasi / pagu * 100
        if realisasi > pagu:
            flags.append("realisasi_above_pagu")
    return KeuanganRow(element_id=element_id, level=level, statement=statement, code=code, pagu=pagu, realisasi=realisasi,
                       capaian_keuangan=value, capaian_kinerja=kinerja, sasaran=sasaran or [], flags=flags)


def keuangan_rows(tree: PlanTree, rollup: Iterable[ElementCapaian] = ()) -> list[KeuanganRow]:
    """Capaian keuangan of every element of the plan with a realisasi anggaran, in document order, and a
    plan row (last) over the highest of them: an element whose ancestor in the plan has a realisasi is
    inside that ancestor's figure, and counting both would count its money twice.

    capaian_kinerja is the element's (or the plan's) capped roll-up in the plan's tahun, from `rollup`
    (plan_capaian's elements), where one was computed.
    """
    year = tree.plan.tahun
    kinerja = {e.element_id: e.mean_capped for e in rollup if e.year == year}
    spent = {e.id: e for e in tree.elements if e.anggaran.get("realisasi") is not None}
    if not spent:
        return []
    parents = {e.id: e.parents for e in tree.elements}
    levels = {e.id: e.level for e in tree.elements}

    def inside_another(eid: str, seen: frozenset[str] = frozenset()) -> bool:
        for p in parents.get(eid, ()):
            if p in seen:  # a cycle (invalid plan)
                continue
            if p in spent or inside_another(p, seen | {eid}):
                return True
        return False

    def sasaran_above(eid: str, seen: frozenset[str] = frozenset()) -> list[str]:
        out: list[str] = []
        for p in parents.get(eid, ()):
            if p in levels and p not in seen:
                for s in ([p] if levels[p] == "sasaran" else sasaran_above(p, seen | {eid})):
                    if s not in out:
                        out.append(s)
        return out

    rows = []
    for e in spent.values():
        a = e.anggaran
        wellformed = a.get("wellformed") is not False and a.get("realisasi_wellformed") is not False
        rows.append(_keuangan(e.id, e.level, e.statement, e.nomenklatur.code, a.get("pagu"), a["realisasi"],
                              kinerja.get(e.id), wellformed, sasaran_above(e.id)))
    top = [r for r in rows if not inside_another(r.element_id)]
    if all(r.pagu is not None for r in top):
        pagu: float | None = sum(r.pagu for r in top)
    else:
        pagu = None
    rows.append(_keuangan(None, "plan", tree.plan.title or tree.plan.id, None, pagu,
                          sum(r.realisasi for r in top), kinerja.get(None)))
    return rows


def keuangan_groups(rows: Iterable[KeuanganRow]) -> list[tuple[list[str], list[KeuanganRow]]]:
    """The element rows of keuangan_rows grouped by the sasaran they support, in document order, as the
    LKjIP's table groups its programs (the plan row left out)."""
    groups: list[tuple[list[str], list[KeuanganRow]]] = []
    for k in rows:
        if k.element_id is None:
            continue
        if not groups or groups[-1][0] != k.sasaran:
            groups.append((k.sasaran, []))
        groups[-1][1].append(k)
    return groups
