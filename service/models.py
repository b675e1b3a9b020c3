"""Pydantic models of a cascade: plans, elements, indikator, jabatan, and what the store returns."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from service.values import ValueError_, parse_number, parse_range, parse_rupiah

SLUG = r"^[a-z0-9][a-z0-9._-]*$"
Slug = Annotated[str, Field(pattern=SLUG, max_length=120)]
# A parent reference: a local element id, or "other-plan-id/element-id" across plans.
ParentRef = Annotated[str, Field(pattern=r"^([a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$", max_length=241)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(StrEnum):
    """Level of an element in the cascade (GLOSSARY, Tahap 4 of seed 003)."""

    tujuan = "tujuan"
    sasaran = "sasaran"  # sasaran strategis, from a CSF
    program = "program"  # kondisi antara, sasaran program
    kegiatan = "kegiatan"  # kondisi yang diperlukan, sasaran kegiatan
    sub_kegiatan = "sub_kegiatan"  # kondisi operasional, sasaran sub kegiatan

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def label(self) -> str:
        """The graph label written literally in cypher/ for this level."""
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    Level.tujuan: "Tujuan",
    Level.sasaran: "Sasaran",
    Level.program: "KondisiAntara",
    Level.kegiatan: "Kegiatan",
    Level.sub_kegiatan: "SubKegiatan",
}


class JabatanLevel(StrEnum):
    kepala_daerah = "kepala_daerah"
    kepala_dinas = "kepala_dinas"  # JPT Pratama, eselon II
    eselon_iii = "eselon_iii"  # administrator
    eselon_iv = "eselon_iv"  # pengawas
    jf = "jf"  # jabatan fungsional
    pelaksana = "pelaksana"


class Polaritas(StrEnum):
    positif = "positif"
    negatif = "negatif"
    range = "range"


class Aspect(StrEnum):
    """What a document may not give for an element (lost in its conversion to text, or not part of its
    kind of document): the checks that need it skip the element, and say so once per plan."""

    statement = "statement"  # the sasaran statement (the text is gone, or the transcription holds a filler)
    parents = "parents"  # what it contributes to (the lines of a diagram)
    below = "below"  # what contributes to it
    indikator = "indikator"
    target = "target"
    anggaran = "anggaran"
    jabatan = "jabatan"  # who owns it


class PlanKind(StrEnum):
    pohon_kinerja = "pohon_kinerja"
    renstra = "renstra"
    rkt = "rkt"
    pk = "pk"
    lkjip = "lkjip"
    iku = "iku"
    rpjmd = "rpjmd"


class SourceRef(Strict):
    """Where in the source document a value was read."""

    line: int | None = Field(default=None, ge=1)
    section: str | None = None


class Nilai(Strict):
    """A target, realisasi or capaian as written, with its parsed form."""

    raw: str
    value: float | None = None
    lo: float | None = None
    hi: float | None = None
    unit: str = ""
    wellformed: bool = True

    @classmethod
    def parse(cls, raw: str | int | float) -> Nilai:
        """Parse text as written; "-" (no value reported) parses to value None.

        Raises:
            ValueError: the text holds no number.
        """
        text = str(raw).strip() if not isinstance(raw, str) else raw.strip()
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            if not math.isfinite(float(raw)):  # YAML's .inf and .nan
                raise ValueError(f"not a finite number: {raw!r}")
            return cls(raw=str(raw), value=float(raw))
        if text in {"-", "", "–"}:
            return cls(raw=raw, value=None)
        rng = parse_range(text)
        if rng:
            lo, hi, unit = rng
            return cls(raw=raw, lo=lo, hi=hi, unit=unit)
        try:
            num = parse_number(text)
        except ValueError_ as e:
            raise ValueError(str(e)) from e
        return cls(raw=raw, value=num.value, unit=num.unit, wellformed=num.wellformed)


def _parse_year_map(v: Any) -> Any:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ValueError("expected a mapping of year to value, e.g. {2025: '93,59%'}")
    out: dict[int, Nilai] = {}
    for year, raw in v.items():
        try:
            number = int(year)
            if isinstance(year, float) and not year.is_integer():  # 2025.5 is no year (int() would cut it)
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(f"expected a year such as 2025, got {year!r}") from None
        if not 1990 <= number <= 2100:
            raise ValueError(f"year {year} is outside 1990-2100")
        if isinstance(raw, Nilai):
            out[int(year)] = raw
            continue
        if isinstance(raw, dict):
            out[int(year)] = Nilai(**raw)
            continue
        out[int(year)] = Nilai.parse(raw)
    return out


class Indikator(Strict):
    """An indicator of an element: how its condition is measured."""

    id: Slug | None = None
    name: str = Field(min_length=1)
    satuan: str | None = None
    formula: str | None = None
    polaritas: Polaritas | None = None
    sumber_data: str | None = None
    tipe: str | None = None
    target: dict[int, Nilai] = Field(default_factory=dict)
    realisasi: dict[int, Nilai] = Field(default_factory=dict)
    capaian: dict[int, Nilai] = Field(default_factory=dict)  # as reported by the document
    source: SourceRef | None = None
    notes: str | None = None

    _years = field_validator("target", "realisasi", "capaian", mode="before")(_parse_year_map)


class Nomenklatur(Strict):
    name: str | None = None
    code: str | None = None


class Anggaran(Strict):
    """Budget: pagu in integer rupiah and the text as written; realisasi where reported.

    `versi` says which budget the figure is from where a document mixes them (e.g. "murni", the budget as
    first passed, against "perubahan", after the APBD-P): the roll-up compares only figures of one
    version (RULES R2.8)."""

    versi: str | None = Field(default=None, min_length=1, max_length=40)
    raw: str | None = None
    pagu: int | None = None
    wellformed: bool = True
    realisasi_raw: str | None = None
    realisasi: int | None = None
    realisasi_wellformed: bool = True
    source: SourceRef | None = None

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if isinstance(data, (str, int)) and not isinstance(data, bool):
            data = {"raw": data}
        if not isinstance(data, dict):
            raise ValueError("expected an amount such as '372.250.370' or a mapping with raw/realisasi_raw")
        data = dict(data)
        for raw_key, val_key, ok_key in (("raw", "pagu", "wellformed"), ("realisasi_raw", "realisasi", "realisasi_wellformed")):
            raw = data.get(raw_key)
            if raw is None:
                continue
            try:
                value, ok = parse_rupiah(raw)
            except ValueError_ as e:
                raise ValueError(str(e)) from e
            declared = data.get(val_key)
            if declared is not None and declared != value:
                raise ValueError(f"{val_key} {declared} does not match {raw_key} {raw!r} (reads as {value})")
            data[raw_key] = str(raw)
            data[val_key] = value
            data[ok_key] = ok
        return data


class Element(Strict):
    """A node of the cascade: a condition (kinerja) at one level, with what measures, funds and owns it."""

    id: Slug
    level: Level
    statement: str = Field(min_length=1)
    parents: list[ParentRef] = Field(default_factory=list)
    nomenklatur: Nomenklatur | None = None
    anggaran: Anggaran | None = None
    indikator: list[Indikator] = Field(default_factory=list)
    jabatan: list[Slug] = Field(default_factory=list)
    source: SourceRef | None = None
    notes: str | None = None
    # what the document does not give for this element (lost in the conversion; say why in notes), see Aspect
    absent: list[Aspect] = Field(default_factory=list)


class Jabatan(Strict):
    """A position that owns performance (signs a Perjanjian Kinerja)."""

    id: Slug
    name: str = Field(min_length=1)
    level: JabatanLevel
    unit: str | None = None
    atasan: Slug | None = None
    source: SourceRef | None = None


class PlanMeta(Strict):
    """One cascade document of one perangkat daerah (or of the Kepala Daerah)."""

    id: Slug
    pemda: str
    perangkat_daerah: str
    tahun: int | None = Field(default=None, ge=1990, le=2100)
    periode: str | None = None
    kind: PlanKind
    title: str | None = None
    source_document: str | None = None
    notes: str | None = None
    # what the document does not give for any of its elements (say why in notes), see Aspect
    absent: list[Aspect] = Field(default_factory=list)
    # the predikat scale the document prints, by its name in the scales configuration
    # (service/data/predikat_scales.yaml): the scale_gaps check judges it
    predikat_scale: str | None = Field(default=None, min_length=1, max_length=100)


class PlanDocument(Strict):
    """A whole plan file: metadata, jabatan and elements."""

    plan: PlanMeta
    jabatan: list[Jabatan] = Field(default_factory=list)
    elements: list[Element] = Field(default_factory=list)
    # each element's parents' lines in the file it was read from, (element index, parent index) -> line:
    # problems found after parsing (a parent in another plan) name the line too
    _parent_lines: dict[tuple[int, int], int] = PrivateAttr(default_factory=dict)

    def parent_line(self, element: int, parent: int) -> int | None:
        return self._parent_lines.get((element, parent))


# ---- what the store returns -------------------------------------------------------------


class LevelCounts(BaseModel):
    tujuan: int = 0
    sasaran: int = 0
    program: int = 0
    kegiatan: int = 0
    sub_kegiatan: int = 0


class PlanSummary(BaseModel):
    id: str
    pemda: str
    perangkat_daerah: str
    tahun: int | None = None
    periode: str | None = None
    kind: str
    title: str | None = None
    source_document: str | None = None
    loaded_at: str | None = None
    counts: dict[str, int]
    anggaran_total: int | None  # None: the plan gives no anggaran at all


class IndikatorOut(BaseModel):
    id: str
    name: str
    satuan: str | None = None
    target: dict[int, Nilai] = Field(default_factory=dict)
    realisasi: dict[int, Nilai] = Field(default_factory=dict)
    capaian: dict[int, Nilai] = Field(default_factory=dict)
    polaritas: str | None = None
    formula: str | None = None
    sumber_data: str | None = None


class TreeElement(BaseModel):
    id: str
    level: str
    statement: str
    nomenklatur: Nomenklatur
    anggaran: dict[str, Any]
    indikator: list[IndikatorOut]
    parents: list[str]
    jabatan: list[str]  # names of the owning jabatan
    jabatan_ids: list[str] = Field(default_factory=list)  # their ids, in the same order
    source: SourceRef | None = None
    absent: list[str] = Field(default_factory=list)  # what the document does not give for it (Aspect)


class PlanTree(BaseModel):
    plan: PlanSummary
    elements: list[TreeElement]
