"""Reading numbers as Indonesian documents write them."""

import pytest

from service.models import Nilai
from service.values import ValueError_, format_rupiah, parse_number, parse_rupiah

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "value", "wellformed"),
    [
        ("5.328.418.993", 5328418993, True),
        ("372.250.370", 372250370, True),
        ("Rp 6.334.641.787", 6334641787, True),
        ("Rp.17.860.799.466,00", 17860799466, True),
        ("271.000", 271000, True),
        # the malformed figures of seed 003 (Kotim): read as a skimming reader would, flagged
        ("32.400.0000", 324000000, False),
        ("13.2918.000", 132918000, False),
        ("3.536.925. 665", 3536925665, False),
        ("23. 000.000", 23000000, False),
    ],
)
def test_parse_rupiah(raw: str, value: int, wellformed: bool) -> None:
    assert parse_rupiah(raw) == (value, wellformed)


@pytest.mark.parametrize("raw", ["abc", "", "Rp", "12,5"])
def test_parse_rupiah_refuses_non_amounts(raw: str) -> None:
    with pytest.raises(ValueError_):
        parse_rupiah(raw)


@pytest.mark.parametrize(
    ("raw", "value", "unit", "wellformed"),
    [
        ("93,59%", 93.59, "%", True),
        ("93,59 %", 93.59, "%", True),
        ("55 Orang", 55, "Orang", True),
        ("33 Orang / Bulan", 33, "Orang / Bulan", True),
        ("1.081,93", 1081.93, "", True),
        ("2.214,28", 2214.28, "", True),
        ("12 Laporan", 12, "Laporan", True),
        ("98.50", 9850, "", False),  # seed 002 writes 98.50 for 98,50 in one table: flagged, not repaired
    ],
)
def test_parse_number(raw: str, value: float, unit: str, wellformed: bool) -> None:
    n = parse_number(raw)
    assert (n.value, n.unit, n.wellformed) == (pytest.approx(value), unit, wellformed)


def test_nilai_range_and_dash() -> None:
    r = Nilai.parse("80-90 %")
    assert (r.lo, r.hi, r.unit, r.value) == (80, 90, "%", None)
    assert Nilai.parse("-").value is None
    with pytest.raises(ValueError):
        Nilai.parse("Nilai AKIP")


def test_format_rupiah() -> None:
    assert format_rupiah(5328418993) == "Rp 5.328.418.993"
    assert format_rupiah(0) == "Rp 0"
