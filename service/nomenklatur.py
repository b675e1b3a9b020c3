"""Nomenclature of program / kegiatan / sub kegiatan (kabupaten/kota): code checks and name matching.

Reference data: ``service/data/nomenklatur/`` (SIPD export "versi pemutakhiran 2027", see the
README there), Urusan Sosial 1.06 plus the generic Program Penunjang ``X.XX.01``.

RULES §4.1 code format: program ``U.BB.PP``, kegiatan ``U.BB.PP.L.KK``, sub kegiatan
``U.BB.PP.L.KK.SSSS`` with L = 1 provinsi, 2 kabupaten/kota. The 2027 list also holds KABKOT
kegiatan with L = 3 / 4 (kekhususan, Otonomi Khusus Papua), so the patterns accept L 1–4 and
:func:`code_problem` judges the level digit separately.

Where the 2027 data differs from RULES §4.3 (a 2022 dump) — the data files are trusted:

* the penunjang program is the generic ``X.XX.01`` (→ ``1.06.01`` for Dinas Sosial);
* numbers of several sub kegiatan changed, e.g. Penyediaan Tempat Penampungan Pengungsi
  ``1.06.06.2.01.0003`` → ``.0007``; Pengelolaan Data Fakir Miskin ``1.06.05.2.02.0002`` →
  ``.0008``; Fasilitasi Bantuan Sosial Kesejahteraan Keluarga ``.0003`` → ``.0006``; LK3
  ``1.06.02.2.03.0005`` → ``.0012``; Fasilitasi Pemulangan WN Migran ``1.06.03.2.01.0001`` →
  ``.0003``; Izin UGB/PUB ``1.06.02.2.02.0001`` → ``.0003``;
* some were dropped or renamed: ``1.06.04.2.01.0007`` (NIK, Akta, Surat Nikah, KIA) is gone —
  its successor is ``.0014`` Fasilitasi Pembuatan Dokumen Kependudukan bagi …; the sub of the
  same name survives only under ``1.06.04.2.02`` (``.0009``), so a plan before 2027 may still file
  it under ``.2.01`` (``data/nomenklatur/earlier_placements.tsv``); ``1.06.02.2.03.0001``/``.0002``,
  ``1.06.02.2.01.0001`` and ``1.06.06.2.01.0003`` are absent; Kampung/Taruna Siaga Bencana
  became "Koordinasi, Sosialisasi dan Pelaksanaan …"; Penjangkauan/Rujukan gained "Anak-Anak
  Terlantar";
* names spell out "Kabupaten/Kota" and "Perangkat Daerah" where §4.3 abbreviates.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

DATA_DIR = Path(__file__).resolve().parent / "data" / "nomenklatur"
GENERIC_BIDANG = "X.XX"
DEFAULT_BIDANG = "1.06"
NEAR_MISS_RATIO = 0.85
LEVELS = ("program", "kegiatan", "sub_kegiatan")
LEVEL_ABOVE = dict(zip(LEVELS[1:], LEVELS[:-1], strict=True))  # the level a kegiatan / sub kegiatan is filed under

Level = Literal["program", "kegiatan", "sub_kegiatan"]
Status = Literal["exact", "near_miss", "name_mismatch", "unknown_code"]

_U = r"[1-8]"
_BB = r"\d{2}"
_REST = {
    "program": r"\.\d{2}",
    "kegiatan": r"\.\d{2}\.[1-4]\.\d{2}",
    "sub_kegiatan": r"\.\d{2}\.[1-4]\.\d{2}\.\d{4}",
}
# Codes as a plan writes them: a real urusan/bidang, never the generic X.XX.
CODE_PATTERNS: dict[str, re.Pattern[str]] = {lvl: re.compile(rf"^{_U}\.{_BB}{rest}$") for lvl, rest in _REST.items()}
# Codes as the reference list writes them: the penunjang program may be generic (X.XX.01…).
REFERENCE_CODE_PATTERNS: dict[str, re.Pattern[str]] = {lvl: re.compile(rf"^(?:{_U}\.{_BB}|X\.XX){rest}$") for lvl, rest in _REST.items()}
# RULES §4.1, kab/kota sub kegiatan exactly.
KABKOTA_SUB_KEGIATAN = re.compile(r"^[1-8]\.\d{2}\.\d{2}\.2\.\d{2}\.\d{4}$")

_PARTS = {"program": 3, "kegiatan": 5, "sub_kegiatan": 6}
_LABEL = {"program": "program", "kegiatan": "kegiatan", "sub_kegiatan": "sub kegiatan"}


def _level_of(code: str) -> str | None:
    """The level a well-formed code (plan or reference form) belongs to, else None."""
    for lvl, pattern in REFERENCE_CODE_PATTERNS.items():
        if pattern.match(code):
            return lvl
    return None


@lru_cache(maxsize=65536)
def code_problem(code: str, level: str, *, otsus: bool = False) -> str | None:
    """None if ``code`` is a well-formed kabupaten/kota code of ``level``, else a short message.

    ``level`` is 'program', 'kegiatan' or 'sub_kegiatan'. Kegiatan/sub kegiatan must carry
    L = 2 (R4.2); L = 3/4 (kekhususan Otsus Papua) passes only with ``otsus=True``.
    """
    if level not in _PARTS:
        raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")
    label = _LABEL[level]
    code = (code or "").strip()
    if not code:
        return "empty code"
    if re.search(r"\s", code):
        return "code contains spaces"
    if code.upper().startswith("X.XX"):
        return "generic X.XX code: write the PD's own bidang code (e.g. 1.06.01)"
    parts = code.split(".")
    if len(parts) != _PARTS[level]:
        other = _level_of(code)
        if other and other != level:
            return f"not a {label} code ({_LABEL[other]} code)"
        return f"not a {label} code (expected {_PARTS[level]} dot-separated parts, got {len(parts)})"
    problems: list[str] = []
    if not re.fullmatch(r"[1-8]", parts[0]):
        problems.append("urusan must be one digit 1-8")
    if not re.fullmatch(r"\d{2}", parts[1]):
        problems.append("bidang must be 2 digits")
    if not re.fullmatch(r"\d{2}", parts[2]):
        problems.append("program number must be 2 digits")
    if level != "program":
        lvl_digit = parts[3]
        if re.fullmatch(r"0\d", lvl_digit):
            problems.append(f"level written as {lvl_digit}")
        elif not re.fullmatch(r"\d", lvl_digit):
            problems.append("level must be one digit")
        elif lvl_digit == "1":
            problems.append("provinsi code (L=1) in a kabupaten/kota plan")
        elif lvl_digit in "34":
            if not otsus:
                problems.append(f"kekhususan code (L={lvl_digit}, Otsus Papua) in a kabupaten/kota plan")
        elif lvl_digit != "2":
            problems.append(f"unknown level digit L={lvl_digit}")
        if not re.fullmatch(r"\d{2}", parts[4]):
            problems.append("kegiatan number must be 2 digits")
    if level == "sub_kegiatan":
        sub = parts[5]
        if re.fullmatch(r"\d{2}", sub):
            problems.append(f"2-digit sub kegiatan number (write {sub.zfill(4)})")
        elif not re.fullmatch(r"\d{4}", sub):
            problems.append("sub kegiatan number must be 4 digits")
    return "; ".join(problems) or None


def normalize_code(code: str) -> str:
    """Repair the two known malformations: level written as ``02`` and 2-digit sub numbers."""
    parts = re.sub(r"\s+", "", code or "").split(".")
    if len(parts) in (5, 6) and re.fullmatch(r"0\d", parts[3]):
        parts[3] = parts[3][1]
    if len(parts) == 6 and re.fullmatch(r"\d{2}", parts[5]):
        parts[5] = parts[5].zfill(4)
    return ".".join(parts)


_PREFIX_PARTS = frozenset({(2, 3), (3, 5), (5, 6)})  # bidang→program, program→kegiatan (adds L and KK), kegiatan→sub


def prefix_matches(child_code: str, parent_code: str) -> bool:
    """R4.1: sub starts with kegiatan + "."; kegiatan starts with program + "." + L + "."; program with bidang + "."."""
    child, parent = child_code.strip(), parent_code.strip()
    return (parent.count(".") + 1, child.count(".") + 1) in _PREFIX_PARTS and child.startswith(parent + ".")


_KABKOTA = re.compile(r"\bkab(?:upaten)?\s*\.?\s*(?:/|dan|atau)\s*kota\b")
_PROV = re.compile(r"\bprov\b\.?")
_PUNCT = re.compile(r"[^\w\s]|_")


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """Name key for tolerant matching (R4.4): case, spacing, punctuation and Kab/Kota spelling ignored.

    "Kabupaten/ Kota", "Kab/Kota", "Kab. / Kota", "kabupaten dan kota" → "kabupaten kota".
    """
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = text.replace("&", " dan ")
    text = _KABKOTA.sub(" kabupaten kota ", text)
    text = _PROV.sub(" provinsi ", text)
    text = _PUNCT.sub(" ", text)
    return " ".join(text.split())


def similarity(a: str, b: str) -> float:
    """difflib ratio of the two names after :func:`normalize_name`, in [0, 1]."""
    return difflib.SequenceMatcher(None, normalize_name(a), normalize_name(b), autojunk=False).ratio()


@dataclass(frozen=True)
class Entry:
    """One program, kegiatan or sub kegiatan of the reference list."""

    code: str
    name: str
    level: str
    parent_code: str | None = None
    kinerja: str | None = None
    indikator: str | None = None
    satuan: str | None = None
    spm: str | None = None
    definisi_operasional: str | None = None
    reference_code: str | None = None  # the X.XX form for an expanded penunjang entry

    @property
    def level_digit(self) -> str | None:
        """L of a kegiatan / sub kegiatan code ('2' = kab/kota), None for a program."""
        parts = self.code.split(".")
        return parts[3] if len(parts) >= 5 else None


CHECK_CACHE_SIZE = 100_000  # (code, name) pairs remembered by Nomenklatur.check


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :meth:`Nomenklatur.check` for one (code, name) as a document writes it."""

    status: Status
    code: str
    name: str
    level: str
    official_name: str | None = None
    ratio: float | None = None
    message: str = ""

    @property
    def severity(self) -> Literal["ok", "warning", "error"]:
        return {"exact": "ok", "near_miss": "warning"}.get(self.status, "error")  # type: ignore[return-value]

    @property
    def ok(self) -> bool:
        return self.status == "exact"


@dataclass(frozen=True)
class Candidate:
    """A reference entry proposed for a name, with its similarity score."""

    code: str
    name: str
    score: float
    entry: Entry


def _split_cell(cell: str) -> tuple[str, str]:
    code, _, name = cell.strip().partition(" ")
    return code, name.strip()


def _read_rows(path: Path) -> Iterable[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        lines = (line for line in fh if not line.startswith("#"))
        yield from csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)


class Nomenklatur:
    """The reference list: entries by code, generic penunjang ``X.XX`` expanded per bidang."""

    def __init__(self, entries: Iterable[Entry], bidang_names: dict[str, str] | None = None) -> None:
        self._by_code: dict[str, Entry] = {}
        for entry in entries:
            known = self._by_code.get(entry.code)
            if known and normalize_name(known.name) != normalize_name(entry.name):
                raise ValueError(f"{entry.code}: two names {known.name!r} / {entry.name!r}")
            self._by_code.setdefault(entry.code, entry)
        self.bidang_names = dict(bidang_names or {})
        self._expanded: dict[str, dict[str, Entry]] = {}

    @classmethod
    def from_dir(cls, data_dir: Path = DATA_DIR) -> Nomenklatur:
        entries: list[Entry] = []
        bidang_names: dict[str, str] = {}
        for path in sorted(data_dir.glob("*.txt")):
            for row in _read_rows(path):
                bidang_code, bidang_name = _split_cell(row["BIDANG"])
                bidang_names[bidang_code] = bidang_name
                p_code, p_name = _split_cell(row["PROGRAM"])
                k_code, k_name = _split_cell(row["KEGIATAN"])
                s_code, s_name = _split_cell(row["SUBKEGIATAN"])
                for code, lvl in ((p_code, "program"), (k_code, "kegiatan"), (s_code, "sub_kegiatan")):
                    if not REFERENCE_CODE_PATTERNS[lvl].match(code):
                        raise ValueError(f"{path.name}: malformed {lvl} code {code!r}")
                entries.append(Entry(p_code, p_name, "program", bidang_code))
                entries.append(Entry(k_code, k_name, "kegiatan", p_code))
                entries.append(
                    Entry(
                        s_code,
                        s_name,
                        "sub_kegiatan",
                        k_code,
                        kinerja=row["KINERJA"].strip() or None,
                        indikator=row["INDIKATOR"].strip() or None,
                        satuan=row["SATUAN"].strip() or None,
                        spm=row["SPM"].strip() or None,
                        definisi_operasional=row["DEFINISI OPERASIONAL"].strip() or None,
                    )
                )
        return cls(entries, bidang_names)

    @staticmethod
    @lru_cache(maxsize=1)
    def default() -> Nomenklatur:
        """The shipped reference list, loaded once."""
        return Nomenklatur.from_dir(DATA_DIR)

    def reference_entries(self) -> list[Entry]:
        """All entries as stored (penunjang still under X.XX)."""
        return list(self._by_code.values())

    def entries(self, bidang: str = DEFAULT_BIDANG, level: str | None = None, *, otsus: bool = False) -> list[Entry]:
        """Entries usable by a PD of ``bidang``: its own programs plus penunjang X.XX.01 as ``bidang``.01.

        Kekhususan kegiatan (L = 3/4) and their subs are left out unless ``otsus``.
        """
        found = self._for_bidang(bidang).values()
        return [e for e in found if (level is None or e.level == level) and (otsus or e.level_digit in (None, "2"))]

    def _by_name(self, bidang: str, level: str, otsus: bool) -> dict[str, list[Entry]]:
        """Entries of a level by normalised name (cached per bidang, level and otsus)."""
        key = (bidang, level, otsus)
        cache = self.__dict__.setdefault("_name_index", {})
        if key not in cache:
            index: dict[str, list[Entry]] = {}
            for e in self.entries(bidang, level, otsus=otsus):
                index.setdefault(normalize_name(e.name), []).append(e)
            cache[key] = index
        return cache[key]

    def _for_bidang(self, bidang: str) -> dict[str, Entry]:
        if bidang not in self._expanded:
            if not re.fullmatch(r"[1-8]\.\d{2}", bidang):
                raise ValueError(f"bidang must look like '1.06', got {bidang!r}")
            table: dict[str, Entry] = {}
            for entry in self._by_code.values():
                if entry.code.startswith(bidang + "."):
                    table[entry.code] = entry
                elif entry.code.startswith(GENERIC_BIDANG + "."):
                    code = bidang + entry.code[len(GENERIC_BIDANG) :]
                    parent = entry.parent_code
                    if parent and parent.startswith(GENERIC_BIDANG + "."):
                        parent = bidang + parent[len(GENERIC_BIDANG) :]
                    elif entry.level == "program":
                        parent = bidang
                    table[code] = replace(entry, code=code, parent_code=parent, reference_code=entry.code)
            self._expanded[bidang] = table
        return self._expanded[bidang]

    def lookup(self, code: str, bidang: str = DEFAULT_BIDANG) -> Entry | None:
        """The entry of ``code`` (plan form, e.g. 1.06.01.2.02.0001, or reference form X.XX…), else None."""
        code = (code or "").strip()
        if code.startswith(GENERIC_BIDANG + "."):
            return self._by_code.get(code)
        return self._for_bidang(bidang).get(code)

    def check(self, code: str, name: str, level: str, bidang: str = DEFAULT_BIDANG) -> CheckResult:
        """Compare a (code, name) pair as a document writes it with the reference (R4.4, check 14).

        Remembered per (code, name, level, bidang): the reference list does not change, and the same
        pairs recur in every perangkat daerah of a pemda (the penunjang program and its kegiatan)."""
        key = (code, name, level, bidang)
        cache: dict[tuple[str, str, str, str], CheckResult] = self.__dict__.setdefault("_checked", {})
        found = cache.get(key)
        if found is None:
            if len(cache) >= CHECK_CACHE_SIZE:
                cache.clear()
            found = cache[key] = self._check(code, name, level, bidang)
        return found

    def _check(self, code: str, name: str, level: str, bidang: str) -> CheckResult:
        problem = code_problem(code, level)
        entry = self.lookup(code, bidang) if problem is None else None
        if entry is None or entry.level != level:
            message = problem or f"{code} is not in the nomenclature of bidang {bidang}"
            if problem:
                repaired = self.lookup(normalize_code(code), bidang)
                if repaired is not None and repaired.level == level:
                    message += f"; did you mean {repaired.code} {repaired.name}?"
            return CheckResult("unknown_code", code, name, level, message=message)
        if normalize_name(name) == normalize_name(entry.name):
            return CheckResult("exact", code, name, level, entry.name, 1.0)
        ratio = similarity(name, entry.name)
        status: Status = "near_miss" if ratio >= NEAR_MISS_RATIO else "name_mismatch"
        verb = "differs slightly from" if status == "near_miss" else "differs from"
        message = f"name {verb} the official name of {entry.code}: {entry.name!r} (similarity {ratio:.2f})"
        return CheckResult(status, code, name, level, entry.name, round(ratio, 4), message)

    def resolve(
        self,
        name: str,
        level: str,
        bidang: str = DEFAULT_BIDANG,
        parent_code: str | None = None,
        *,
        limit: int = 5,
        otsus: bool = False,
    ) -> list[Candidate]:
        """Best reference candidates for ``name`` written without a code, best first.

        With ``parent_code`` only entries under that code (prefix rule R4.1) are considered,
        else the whole level of ``bidang``.
        """
        if level not in _PARTS:
            raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")
        key = normalize_name(name)
        matcher = difflib.SequenceMatcher(None, b=key, autojunk=False)
        scored: list[Candidate] = []
        for entry in self.entries(bidang, level, otsus=otsus):
            if parent_code and not prefix_matches(entry.code, parent_code):
                continue
            matcher.set_seq1(normalize_name(entry.name))
            score = 1.0 if matcher.a == key else matcher.ratio()
            scored.append(Candidate(entry.code, entry.name, round(score, 4), entry))
        scored.sort(key=lambda c: (-c.score, c.code))
        return scored[:limit]

    def resolve_one(
        self,
        name: str,
        level: str,
        bidang: str = DEFAULT_BIDANG,
        parent_code: str | None = None,
        *,
        min_score: float = NEAR_MISS_RATIO,
        margin: float = 0.05,
        otsus: bool = False,
    ) -> Candidate | None:
        """The single confident candidate, else None.

        Confident: the only exact (normalised) match, or a score >= ``min_score`` ahead of the
        runner-up by at least ``margin``. "Penyediaan Sandang" without a parent is ambiguous
        (three kegiatan have it) and gives None.
        """
        # Fast path: the name as written is an official name (normalised), once under the parent.
        exact = [e for e in self._by_name(bidang, level, otsus).get(normalize_name(name), [])
                 if not parent_code or prefix_matches(e.code, parent_code)]
        if len(exact) == 1:
            return Candidate(exact[0].code, exact[0].name, 1.0, exact[0])
        found = self.resolve(name, level, bidang, parent_code, limit=2, otsus=otsus)
        if not found or found[0].score < min_score:
            return None
        runner_up = found[1].score if len(found) > 1 else 0.0
        if found[0].score == 1.0 and runner_up < 1.0:
            return found[0]
        return found[0] if found[0].score - runner_up >= margin else None

    def counts(self, bidang: str | None = None) -> dict[str, int]:
        """Number of entries per level: stored (bidang None) or as usable by ``bidang`` (L = 2 only)."""
        pool = self.reference_entries() if bidang is None else self.entries(bidang)
        return {lvl: sum(1 for e in pool if e.level == lvl) for lvl in LEVELS}


# Bump when check(), code_problem(), normalize_name() or prefix_matches() change what they accept:
# certificates stored by earlier versions then no longer count (the checks look at those codes again).
CERTIFICATE_LOGIC = 1


@lru_cache(maxsize=1)
def reference_version() -> int:
    """Names the shipped list and the logic that judges codes against it, for the loader's certificates
    (:func:`certified`): a new list, or new logic, makes every stored certificate stale. A 60-bit
    integer: stored on most elements of a big store, where a text property cost 28 MB more on disk and
    in every restart."""
    h = hashlib.sha256(f"logic {CERTIFICATE_LOGIC}\n".encode())
    for path in sorted(DATA_DIR.glob("*.txt")):
        h.update(path.name.encode() + b"\n" + path.read_bytes())
    return int(h.hexdigest()[:15], 16)


@lru_cache(maxsize=65536)
def _exact(code: str, name: str, level: str) -> bool:
    """check() says "exact" for the pair under the bidang the code itself names (a well-formed code)."""
    if level not in _PARTS or code_problem(code, level) is not None:
        return False
    return Nomenklatur.default().check(code, name, level, ".".join(code.strip().split(".")[:2])).status == "exact"


def certified(code: str | None, name: str | None, level: str, parent_codes: Iterable[str | None]) -> bool:
    """Whether no code rule can flag a program / kegiatan / sub kegiatan, given the codes of its parents
    one level up in the same plan (None for a parent written without one).

    Certified: code and name given, the pair exactly in the list (check() says "exact" under the bidang
    the code itself names), and every parent one level up has a code this one starts with
    (prefix_matches). The loader stores the certificate with :func:`reference_version`; the code rules
    look at every other element, and trust a certificate only of that version and of the bidang they
    check (a code of another bidang is unknown there).
    """
    if not code or not name or not _exact(code, name, level):
        return False
    return all(prefix_matches(code, p) if p else False for p in parent_codes)



# the budget year from which the shipped list ("versi pemutakhiran 2027") applies
LIST_YEAR = 2027


@lru_cache(maxsize=1)
def _earlier_placements() -> dict[str, list[str]]:
    """Codes the 2022 dump gave sub kegiatan that the 2027 list moved to another kegiatan, by name key."""
    out: dict[str, list[str]] = {}
    for line in (DATA_DIR / "earlier_placements.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, name, _now = line.split("\t")
            out.setdefault(normalize_name(name), []).append(code)
    return out


def earlier_placement(name: str, kegiatan_code: str) -> str | None:
    """The code an earlier list (RULES §4.3, 2022) gave the sub kegiatan named `name` under the kegiatan
    `kegiatan_code`, where the shipped list files it elsewhere; None when it did not."""
    return next((c for c in _earlier_placements().get(normalize_name(name), ()) if prefix_matches(c, kegiatan_code)), None)


def load() -> Nomenklatur:
    """Shortcut for :meth:`Nomenklatur.default`."""
    return Nomenklatur.default()


def lookup(code: str, bidang: str = DEFAULT_BIDANG) -> Entry | None:
    return load().lookup(code, bidang)


def check(code: str, name: str, level: str, bidang: str = DEFAULT_BIDANG) -> CheckResult:
    return load().check(code, name, level, bidang)


def resolve(name: str, level: str, bidang: str = DEFAULT_BIDANG, parent_code: str | None = None, *, limit: int = 5) -> list[Candidate]:
    return load().resolve(name, level, bidang, parent_code, limit=limit)
