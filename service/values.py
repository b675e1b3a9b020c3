"""Parsing of values as Indonesian documents write them: rupiah, percentages, counts with units."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

# A well-formed Indonesian number: thousands grouped by dots in threes, decimal comma.
# "5.328.418.993", "93,59", "1.081,93", "12". (GLOSSARY: Anggaran.)
_WELLFORMED = re.compile(r"^\d{1,3}(\.\d{3})*(,\d+)?$|^\d+(,\d+)?$")
# Anything that looks like a number, tolerating the malformations met in the seeds:
# "32.400.0000", "13.2918.000", "3.536.925. 665", "23. 000.000", "98.50".
_NUMBERISH = re.compile(r"\d[\d.,\s]*\d|\d")
_RANGE = re.compile(r"^\s*(?P<lo>\d[\d.,]*)\s*(?:-|–|s/?d|sampai)\s*(?P<hi>\d[\d.,]*)\s*(?P<unit>.*)$", re.I)


class ValueError_(ValueError):
    """A value that holds no number at all where a number is required."""


@dataclass(frozen=True)
class ParsedNumber:
    """A number read from text, with whether the text was well-formed."""

    value: float
    wellformed: bool
    unit: str


def _to_float(token: str) -> tuple[float, bool]:
    """Read one numeric token the Indonesian way; report malformation instead of repairing silently.

    A malformed token is read the way a reader skimming the page would (every dot a
    thousands separator, every comma a decimal mark, spaces dropped), so "32.400.0000"
    reads as 324000000 and is marked not well-formed for the checks to report.
    """
    compact = token.strip()
    wellformed = bool(_WELLFORMED.match(compact))
    squeezed = re.sub(r"\s+", "", compact)
    if squeezed.count(",") > 1:
        wellformed = False
    integer, _, decimals = squeezed.partition(",")
    integer = integer.replace(".", "")
    if not integer.isdigit():
        raise ValueError_(f"not a number: {token!r}")
    text = integer + ("." + decimals.replace(",", "") if decimals else "")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError_(f"number too large: {token[:20]!r}... ({len(token)} characters)")
    return value, wellformed


def parse_number(raw: str) -> ParsedNumber:
    """Parse "93,59%", "55 Orang", "1.081,93", "12 Laporan" into value, well-formedness, unit.

    Raises:
        ValueError_: when the text holds no number.
    """
    text = raw.strip()
    match = _NUMBERISH.search(text)
    if not match:
        raise ValueError_(f"no number in {raw!r}")
    value, wellformed = _to_float(match.group(0))
    prefix = text[: match.start()].strip()
    unit = text[match.end():].strip()
    if prefix and prefix.lower() not in {"rp", "rp.", "±"}:
        wellformed = False
    return ParsedNumber(value=value, wellformed=wellformed, unit=unit)


def parse_rupiah(raw: str | int) -> tuple[int, bool]:
    """Parse a rupiah amount ("Rp 5.328.418.993") into integer rupiah and well-formedness.

    Raises:
        ValueError_: when the text holds no number, or holds decimals (sen are not used in pagu).
    """
    if isinstance(raw, bool):
        raise ValueError_(f"not an amount: {raw!r}")
    if isinstance(raw, int):
        return _bounded_rupiah(raw, raw), True
    text = raw.strip()
    if text.lower().startswith("rp"):
        text = text[2:].lstrip(". ")
    if text.endswith(",00"):
        text = text[:-3]
    if not text or not _NUMBERISH.fullmatch(text):
        raise ValueError_(f"not a rupiah amount: {raw!r}")
    value, wellformed = _to_float(text)
    if value != int(value):
        raise ValueError_(f"rupiah amount with decimals: {raw!r}")
    return _bounded_rupiah(int(value), raw), wellformed


# Rp 1.000 triliun: five times the largest APBD (DKI Jakarta, under Rp 100 triliun), and exact as a float
# (amounts pass through one); beyond it a figure is a typo, and the engine's 64-bit sums overflow.
MAX_RUPIAH = 10**15


def _bounded_rupiah(value: int, raw: str | int) -> int:
    if abs(value) > MAX_RUPIAH:
        raise ValueError_(f"more than Rp 1.000.000.000.000.000, not a regional budget: {raw!r}")
    return value


def parse_range(raw: str) -> tuple[float, float, str] | None:
    """Parse a range target such as "80-90 %" into (lo, hi, unit); None when it is not a range."""
    m = _RANGE.match(raw)
    if not m:
        return None
    try:
        lo, _ = _to_float(m.group("lo"))
        hi, _ = _to_float(m.group("hi"))
    except ValueError_:
        return None
    return lo, hi, m.group("unit").strip()


_ID_DIGITS = str.maketrans(",.", ".,")


def format_number(value: float, trim: bool = False) -> str:
    """A number as Indonesian writes it, two decimals: 1.234,56. `trim` drops decimals that are zero
    (50, 90,5); a value that rounds to zero is never "-0,00"."""
    text = f"{value:,.2f}" if round(value, 2) != 0 else "0.00"
    return (text.rstrip("0").rstrip(".") if trim else text).translate(_ID_DIGITS)


def format_rupiah(value: int) -> str:
    """Format an integer the Indonesian way: 5328418993 -> "Rp 5.328.418.993"."""
    sign = "-" if value < 0 else ""
    return f"{sign}Rp {abs(value):,}".replace(",", ".")


@lru_cache(maxsize=65536)  # names repeat across plans, and the loader keys a million of them
def text_key(text: str) -> str:
    """A comparison key for names: case, spacing and punctuation ignored."""
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())
