"""Nomenclature codes and names (RULES §4) against the shipped 2027 reference list."""

from __future__ import annotations

import re

import pytest

from service import nomenklatur as nk
from service.nomenklatur import (
    CODE_PATTERNS,
    KABKOTA_SUB_KEGIATAN,
    REFERENCE_CODE_PATTERNS,
    Nomenklatur,
    code_problem,
    normalize_code,
    normalize_name,
    prefix_matches,
)

from .conftest import SHARED_SEEDS

pytestmark = pytest.mark.unit

KOTIM = SHARED_SEEDS / "003_f85901f096964ca2.txt"
REFERENCE_DIR = SHARED_SEEDS.parent / "reference"


@pytest.fixture(scope="module")
def nom() -> Nomenklatur:
    return Nomenklatur.default()


# --------------------------------------------------------------------------- code format (§4.1)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("1.06.04", "program"),
        ("1.06.01", "program"),
        ("1.06.04.2.01", "kegiatan"),
        ("1.06.04.2.01.0001", "sub_kegiatan"),
        ("1.06.06.2.01.0005", "sub_kegiatan"),
        (" 1.06.04.2.01.0001 ", "sub_kegiatan"),  # surrounding blanks are tolerated
    ],
)
def test_wellformed_codes(code: str, level: str) -> None:
    assert code_problem(code, level) is None
    assert CODE_PATTERNS[level].match(code.strip())


@pytest.mark.unit
@pytest.mark.parametrize(
    ("code", "level", "message"),
    [
        # the malformed variants named in RULES §4.1
        ("1.06.04.02.01.0001", "sub_kegiatan", "level written as 02"),
        ("1.06.04.2.01.01", "sub_kegiatan", "2-digit sub kegiatan number (write 0001)"),
        ("1.06.04.02.01.01", "sub_kegiatan", "level written as 02; 2-digit sub kegiatan number (write 0001)"),
        ("1.06.04.02.01", "kegiatan", "level written as 02"),
        # R4.2: kabupaten/kota uses L = 2 only
        ("1.06.04.1.01", "kegiatan", "provinsi code (L=1) in a kabupaten/kota plan"),
        ("1.06.06.1.01.0001", "sub_kegiatan", "provinsi code (L=1) in a kabupaten/kota plan"),
        ("1.06.02.3.03.0006", "sub_kegiatan", "kekhususan code (L=3, Otsus Papua) in a kabupaten/kota plan"),
        ("1.06.04.5.01", "kegiatan", "unknown level digit L=5"),
        # wrong level
        ("1.06.04", "kegiatan", "not a kegiatan code (program code)"),
        ("1.06.04.2.01", "sub_kegiatan", "not a sub kegiatan code (kegiatan code)"),
        ("1.06.04.2.01.0001", "program", "not a program code (sub kegiatan code)"),
        ("1.06.04.2", "kegiatan", "not a kegiatan code (expected 5 dot-separated parts, got 4)"),
        # X.XX is reference-only
        ("X.XX.01.2.02.0001", "sub_kegiatan", "generic X.XX code: write the PD's own bidang code (e.g. 1.06.01)"),
        # widths
        ("1.6.04", "program", "bidang must be 2 digits"),
        ("9.06.04", "program", "urusan must be one digit 1-8"),
        ("1.06.4", "program", "program number must be 2 digits"),
        ("1.06.04.2.1", "kegiatan", "kegiatan number must be 2 digits"),
        ("1.06.04.2.01.001", "sub_kegiatan", "sub kegiatan number must be 4 digits"),
        ("1.06.04.2.01. 0001", "sub_kegiatan", "code contains spaces"),
        ("", "program", "empty code"),
    ],
)
def test_malformed_codes(code: str, level: str, message: str) -> None:
    assert code_problem(code, level) == message


@pytest.mark.unit
def test_otsus_codes_pass_only_when_allowed() -> None:
    assert code_problem("1.06.02.4.03.0007", "sub_kegiatan", otsus=True) is None
    assert code_problem("1.06.02.4.03.0007", "sub_kegiatan") is not None
    assert code_problem("1.06.04.1.01", "kegiatan", otsus=True) is not None  # provinsi stays wrong


@pytest.mark.unit
def test_unknown_level_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        code_problem("1.06.04", "urusan")


@pytest.mark.unit
def test_generic_code_only_in_reference_patterns() -> None:
    for level, code in (("program", "X.XX.01"), ("kegiatan", "X.XX.01.2.01"), ("sub_kegiatan", "X.XX.01.2.01.0001")):
        assert not CODE_PATTERNS[level].match(code)
        assert REFERENCE_CODE_PATTERNS[level].match(code)


@pytest.mark.unit
def test_rules_kabkota_regex() -> None:
    assert KABKOTA_SUB_KEGIATAN.match("1.06.04.2.01.0001")
    assert not KABKOTA_SUB_KEGIATAN.match("1.06.04.1.01.0001")
    assert not KABKOTA_SUB_KEGIATAN.match("1.06.04.02.01.0001")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("1.06.04.02.01.0001", "1.06.04.2.01.0001"),
        ("1.06.04.2.01.01", "1.06.04.2.01.0001"),
        ("1.06.04.02.01", "1.06.04.2.01"),
        ("1.06.04.2.01.0001", "1.06.04.2.01.0001"),
        ("1.06.04", "1.06.04"),
    ],
)
def test_normalize_code(raw: str, fixed: str) -> None:
    assert normalize_code(raw) == fixed


# --------------------------------------------------------------------------- prefixes (R4.1)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("child", "parent", "expected"),
    [
        ("1.06.06.2.01.0005", "1.06.06.2.01", True),
        # Kotim (RULES §6, 003 #4): Psikososial listed under Kesiapsiagaan Bencana 1.06.06.2.02
        ("1.06.06.2.01.0005", "1.06.06.2.02", False),
        ("1.06.04.2.01", "1.06.04", True),
        ("1.06.04.2.01", "1.06.05", False),
        ("1.06.04", "1.06", True),
        ("1.06.01.2.02.0001", "1.06.01.2.02", True),
        ("1.06.04.2.01.0001", "1.06.04", False),  # sub directly under a program skips a level
        ("1.06.04.2.01", "1.06.0", False),  # a string prefix is not a code prefix
        ("1.06.04.2.011", "1.06.04.2.01", False),
        ("1.06.04.2.01", "1.06.04.2.01", False),
    ],
)
def test_prefix_matches(child: str, parent: str, expected: bool) -> None:
    assert prefix_matches(child, parent) is expected


# --------------------------------------------------------------------------- reference data


@pytest.mark.unit
def test_counts(nom: Nomenklatur) -> None:
    # as stored: 6 programs of 1.06 + the generic X.XX.01; 92 + 111 sub kegiatan rows
    assert nom.counts() == {"program": 7, "kegiatan": 40, "sub_kegiatan": 203}
    # usable by Dinas Sosial (bidang 1.06, L = 2 only)
    assert nom.counts("1.06") == {"program": 7, "kegiatan": 27, "sub_kegiatan": 186}
    # another bidang only gets the penunjang program
    assert nom.counts("2.07") == {"program": 1, "kegiatan": 16, "sub_kegiatan": 107}


@pytest.mark.unit
def test_reference_codes_wellformed_and_linked(nom: Nomenklatur) -> None:
    for entry in nom.reference_entries():
        assert REFERENCE_CODE_PATTERNS[entry.level].match(entry.code), entry
        assert entry.name and entry.name == entry.name.strip()
    for entry in nom.entries("1.06", otsus=True):
        assert entry.parent_code is not None and prefix_matches(entry.code, entry.parent_code), entry
        if entry.level != "program":
            assert nom.lookup(entry.parent_code, "1.06") is not None, entry
        assert code_problem(entry.code, entry.level, otsus=True) is None, entry


@pytest.mark.unit
def test_data_files_are_verbatim_copies() -> None:
    data_dir = nk.DATA_DIR
    files = sorted(p.name for p in data_dir.glob("*.txt"))
    assert files == ["nomenklatur_1.06_sosial_kabkota_sipd2027.txt", "nomenklatur_X.XX_penunjang_kabkota_sipd2027.txt"]
    for name in files:
        text = (data_dir / name).read_text(encoding="utf-8")
        assert "# SOURCE: GitHub repo allweDepth/sesendok" in text
        assert "versi_pemutakhiran_2027" in text
        original = REFERENCE_DIR / name
        if original.exists():
            assert (data_dir / name).read_bytes() == original.read_bytes()
    readme = (data_dir / "README.md").read_text(encoding="utf-8")
    assert "versi pemutakhiran 2027" in readme and "allweDepth/sesendok" in readme


@pytest.mark.unit
def test_lookup_sub_kegiatan(nom: Nomenklatur) -> None:
    entry = nom.lookup("1.06.04.2.01.0001")
    assert entry is not None
    assert (entry.name, entry.level, entry.parent_code) == ("Penyediaan Permakanan", "sub_kegiatan", "1.06.04.2.01")
    assert entry.satuan == "Orang"
    assert entry.kinerja and entry.indikator and "Permakanan" in entry.indikator
    assert nom.lookup("1.06.06.2.01.0005").name == "Pelayanan Dukungan Psikososial"  # type: ignore[union-attr]


@pytest.mark.unit
def test_lookup_program_and_kegiatan(nom: Nomenklatur) -> None:
    program = nom.lookup("1.06.04")
    assert program is not None and program.level == "program"
    assert normalize_name(program.name) == "program rehabilitasi sosial"  # stored upper-case in the list
    kegiatan = nom.lookup("1.06.06.2.02")
    assert kegiatan is not None and kegiatan.level == "kegiatan" and kegiatan.kinerja is None
    assert "Kesiapsiagaan Bencana" in kegiatan.name


@pytest.mark.unit
def test_penunjang_expanded_for_bidang(nom: Nomenklatur) -> None:
    program = nom.lookup("1.06.01")
    assert program is not None
    assert program.reference_code == "X.XX.01" and program.parent_code == "1.06"
    assert normalize_name(program.name) == "program penunjang urusan pemerintahan daerah kabupaten kota"
    gaji = nom.lookup("1.06.01.2.02.0001")
    assert gaji is not None and gaji.name == "Penyediaan Gaji dan Tunjangan ASN" and gaji.parent_code == "1.06.01.2.02"
    assert nom.lookup("X.XX.01.2.02.0001").name == gaji.name  # type: ignore[union-attr]
    other = nom.lookup("2.07.01.2.02.0001", bidang="2.07")
    assert other is not None and other.name == gaji.name
    assert nom.lookup("2.07.01.2.02.0001") is None  # not bidang 1.06
    with pytest.raises(ValueError):
        nom.lookup("1.06.01", bidang="1.6")


@pytest.mark.unit
def test_2027_numbering_differs_from_rules_4_3(nom: Nomenklatur) -> None:
    """RULES §4.3 quotes a 2022 dump; the data files win (see the module docstring)."""
    assert nom.lookup("1.06.06.2.01.0003") is None  # 2022: Penyediaan Tempat Penampungan Pengungsi
    assert nom.lookup("1.06.06.2.01.0007").name == "Penyediaan Tempat Penampungan Pengungsi"  # type: ignore[union-attr]
    assert nom.lookup("1.06.05.2.02.0006").name == "Fasilitasi Bantuan Sosial Kesejahteraan Keluarga"  # type: ignore[union-attr]
    assert nom.lookup("1.06.04.2.01.0007") is None  # 2022: Fasilitasi Pembuatan NIK, Akta …, KIA
    assert nom.lookup("1.06.01.2.01.0007").name == "Evaluasi Kinerja Perangkat Daerah"  # type: ignore[union-attr]


@pytest.mark.unit
def test_otsus_entries_hidden_by_default(nom: Nomenklatur) -> None:
    codes = {e.code for e in nom.entries("1.06")}
    assert "1.06.02.2.03" in codes and "1.06.02.3.03" not in codes
    assert "1.06.02.3.03" in {e.code for e in nom.entries("1.06", otsus=True)}
    assert nom.lookup("1.06.02.3.03") is not None  # lookup itself finds every code


# --------------------------------------------------------------------------- names (R4.4)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Penyediaan Permakanan", "  PENYEDIAAN   permakanan "),
        ("Pemeliharaan Taman Makam Pahlawan Nasional Kabupaten/ Kota", "Pemeliharaan Taman Makam Pahlawan Nasional Kab/Kota"),
        ("Pengumpulan Sumbangan dalam Daerah Kabupaten/Kota", "Pengumpulan Sumbangan dalam Daerah Kab. / Kota"),
        ("Pengumpulan Sumbangan dalam Daerah Kabupaten/Kota", "pengumpulan sumbangan dalam daerah kabupaten / kota"),
        ("Perencanaan, Penganggaran, dan Evaluasi Kinerja", "Perencanaan, Penganggaran dan Evaluasi Kinerja"),
        ("Koordinasi dan Penyusunan Perubahan DPA- SKPD", "Koordinasi dan Penyusunan Perubahan DPA-SKPD"),
        ("Layanan Psikososial Prov.", "layanan psikososial provinsi"),
    ],
)
def test_normalize_name_tolerance(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)


@pytest.mark.unit
def test_normalize_name_keeps_real_differences() -> None:
    assert normalize_name("Penyediaan Makanan") != normalize_name("Penyediaan Permakanan")
    assert normalize_name("Kabupaten Kotawaringin Timur") == "kabupaten kotawaringin timur"
    assert normalize_name("Pemeliharaan Taman Makam Pahlawan Nasional Kab/Kota").endswith("kabupaten kota")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("code", "name", "level"),
    [
        ("1.06.04.2.01.0001", "penyediaan  PERMAKANAN", "sub_kegiatan"),
        ("1.06.07.2.01", "Pemeliharaan taman makam Pahlawan Nasional Kab/Kota", "kegiatan"),
        ("1.06.06.2.02", "Penyelenggaraan Pemberdayaan Masyarakat Terhadap Kesiapsiagaan Bencana Kabupaten/ Kota", "kegiatan"),
        ("1.06.01", "Program Penunjang Urusan Pemerintahan Daerah Kabupaten/Kota", "program"),
        ("1.06.04", "Program Rehabilitasi Sosial", "program"),
    ],
)
def test_check_exact(nom: Nomenklatur, code: str, name: str, level: str) -> None:
    result = nom.check(code, name, level)
    assert result.status == "exact" and result.ok and result.severity == "ok"
    assert result.ratio == 1.0


@pytest.mark.unit
def test_check_near_miss(nom: Nomenklatur) -> None:
    result = nom.check("1.06.04", "Proram Rehabilitasi Sosial", "program")
    assert result.status == "near_miss" and result.severity == "warning"
    assert result.official_name == "PROGRAM REHABILITASI SOSIAL"
    assert result.ratio is not None and 0.95 < result.ratio < 1
    assert "PROGRAM REHABILITASI SOSIAL" in result.message
    cetak = nom.check("1.06.01.2.06.0005", "Penyediaan Barang Cetak dan Penggandaan", "sub_kegiatan")
    assert cetak.status == "near_miss" and cetak.official_name == "Penyediaan Barang Cetakan dan Penggandaan"


@pytest.mark.unit
def test_check_name_mismatch(nom: Nomenklatur) -> None:
    result = nom.check("1.06.06.2.02.0001", "Pelayanan Dukungan Psikososial", "sub_kegiatan")
    assert result.status == "name_mismatch" and result.severity == "error"
    assert result.official_name == "Koordinasi, Sosialisasi dan Pelaksanaan Kampung Siaga Bencana"
    assert result.ratio is not None and result.ratio < nk.NEAR_MISS_RATIO


@pytest.mark.unit
def test_check_unknown_code(nom: Nomenklatur) -> None:
    absent = nom.check("1.06.06.2.01.0003", "Penyediaan Tempat Penampungan Pengungsi", "sub_kegiatan")
    assert absent.status == "unknown_code" and absent.severity == "error"
    assert "not in the nomenclature" in absent.message
    malformed = nom.check("1.06.04.02.01.0001", "Penyediaan Permakanan", "sub_kegiatan")
    assert malformed.status == "unknown_code"
    assert malformed.message.startswith("level written as 02")
    assert "did you mean 1.06.04.2.01.0001 Penyediaan Permakanan" in malformed.message
    wrong_level = nom.check("1.06.04", "Program Rehabilitasi Sosial", "kegiatan")
    assert wrong_level.status == "unknown_code" and "program code" in wrong_level.message


@pytest.mark.unit
def test_module_level_shortcuts() -> None:
    assert nk.load() is Nomenklatur.default()
    assert nk.lookup("1.06.04.2.01.0001") is not None
    assert nk.check("1.06.04", "Program Rehabilitasi Sosial", "program").ok
    assert nk.resolve("Penyediaan Permakanan", "sub_kegiatan", parent_code="1.06.04.2.01")[0].code == "1.06.04.2.01.0001"


# --------------------------------------------------------------------------- resolve (names without codes)


@pytest.mark.unit
def test_resolve_examples(nom: Nomenklatur) -> None:
    best = nom.resolve("Proram Rehabilitasi Sosial", "program")[0]
    assert best.code == "1.06.04" and nk.NEAR_MISS_RATIO <= best.score < 1
    assert nom.resolve("Pelayanan Dukungan Psikososial", "sub_kegiatan")[0].code == "1.06.06.2.01.0005"
    found = nom.resolve("Penyediaan Makanan", "sub_kegiatan", parent_code="1.06.06.2.01")
    assert (found[0].code, found[0].score) == ("1.06.06.2.01.0001", 1.0)
    assert all(c.code.startswith("1.06.06.2.01.") for c in found)
    assert found == sorted(found, key=lambda c: -c.score)


@pytest.mark.unit
def test_resolve_respects_parent(nom: Nomenklatur) -> None:
    # Kotim lists Psikososial under Kesiapsiagaan Bencana: nothing there fits
    under_wrong = nom.resolve("Pelayanan Dukungan Psikososial", "sub_kegiatan", parent_code="1.06.06.2.02")
    assert under_wrong and all(c.code.startswith("1.06.06.2.02.") for c in under_wrong)
    assert under_wrong[0].score < 0.6
    assert nom.resolve_one("Pelayanan Dukungan Psikososial", "sub_kegiatan", parent_code="1.06.06.2.02") is None
    assert nom.resolve("Administrasi Umum Perangkat Daerah", "kegiatan", parent_code="1.06.01")[0].code == "1.06.01.2.06"


@pytest.mark.unit
def test_resolve_one_ambiguity(nom: Nomenklatur) -> None:
    # "Penyediaan Sandang" is a sub of three kegiatan: ambiguous without a parent
    assert nom.resolve_one("Penyediaan Sandang", "sub_kegiatan") is None
    tied = nom.resolve("Penyediaan Sandang", "sub_kegiatan")
    assert [c.score for c in tied[:3]] == [1.0, 1.0, 1.0]
    one = nom.resolve_one("Penyediaan Sandang", "sub_kegiatan", parent_code="1.06.06.2.01")
    assert one is not None and one.code == "1.06.06.2.01.0002"
    assert nom.resolve_one("Rapat paripurna tahunan", "sub_kegiatan") is None


@pytest.mark.unit
def test_resolve_other_bidang_and_limits(nom: Nomenklatur) -> None:
    found = nom.resolve("Penyediaan Gaji dan Tunjangan ASN", "sub_kegiatan", bidang="2.07", limit=1)
    assert [c.code for c in found] == ["2.07.01.2.02.0001"]
    with pytest.raises(ValueError):
        nom.resolve("x", "bidang")


# --------------------------------------------------------------------------- Kotim (seed 003), Tahap 5

# Tahap 5.2 "Nama Program" as written → code, exact after normalisation?
KOTIM_PROGRAMS = {
    "Program Penanganan Bencana": ("1.06.06", True),
    "Proram Rehabilitasi Sosial": ("1.06.04", False),
    "Program Perlindungan dan Jaminan Sosial": ("1.06.05", True),
    "Program Pemberdayaan Sosial": ("1.06.02", True),
    "Program Pengelolaan Taman Makam Pahlawan": ("1.06.07", True),
    "Program Penanganan Warga Negara Migran Korban Tindak Kekerasan": ("1.06.03", True),
    "Program Penunjang Urusan Pemerintahan Daerah Kabupaten/Kota": ("1.06.01", True),  # X.XX.01
}

# Tahap 5.2 "Nama Kegiatan" (under the program written with it) → code, exact?
KOTIM_KEGIATAN = {
    "Perlindungan Sosial Korban Bencana Alam dan Sosial Kabupaten/ Kota": ("1.06.06.2.01", True),
    "Rehabilitasi sosial dasar penyandang disabilitas terlantar, anak terlantar, lanjut usia terlantar serta "
    "gelandangan pengemis di luar panti social": ("1.06.04.2.01", False),  # "social"
    "Rehabilitasi Sosial Penyandang Masalah Kesejahteraan Sosial (PMKS) Lainnya Bukan Korban HIV/AIDS dan NAPZA di Luar Panti Sosial": (
        "1.06.04.2.02",
        True,
    ),
    "Pengelolaan data Fakir Miskin Cakupan Daerah Kabupaten/Kota": ("1.06.05.2.02", True),
    "Pengembangan Potensi Sumber Kesejahteraan Sosial Daerah Kabupaten/Kota": ("1.06.02.2.03", True),
    "Pemeliharaan taman makam Pahlawan Nasional Kabupaten/Kota": ("1.06.07.2.01", True),
    "Pemulangan Warga Negara Migran Korban Tindak Kekerasan dari Titik Debarkasi di Daerah Kabupaten/Kota untuk "
    "dipulangkan ke Desa/Kelurahan Asal": ("1.06.03.2.01", True),
    "Perencanaan, Penganggaran dan Evaluasi Kinerja Perangkat Daerah": ("1.06.01.2.01", True),
    "Administrasi Keuangan Perangkat Daerah": ("1.06.01.2.02", True),
    "Administrasi Kepegawaian Perangkat Daerah": ("1.06.01.2.05", True),
    "Adminstrasi Umum Perangkat Daerah": ("1.06.01.2.06", False),  # "Adminstrasi"
    "Penyediaan Jasa Penunjang Urusan Pemerintahan Daerah": ("1.06.01.2.08", True),
    "Pemeliharaan Barang Milik Daerah Penunjang Urusan Pemerintahan Daerah": ("1.06.01.2.09", True),
}

# Tahap 5.3 "(Kegiatan : …)" headings → code, exact?
KOTIM_HEADINGS = {
    "Perlindungan Sosial Korban Bencana Alam dan Sosial Kabupaten/Kota": ("1.06.06.2.01", True),
    "Penyelenggaraan Pemberdayaan Masyarakat Terhadap Kesiapsiagaan Bencana Kabupaten/ Kota": ("1.06.06.2.02", True),
    "Rehabilitasi Sosial Dasar Penyandang Disabilitas Terlantar, Anak Terlantar, Lanjut Usia Terlantar Serta "
    "Gelandangan Pengemis di Luar Panti Sosial": ("1.06.04.2.01", True),
    "Rehabilitasi Sosial Dasar Penyandang Masalah Kesejahteraan Sosial (PMKS) Lainnya Bukan Korban HIV/AIDS dan "
    "NAPZA di Luar Panti Sosial": ("1.06.04.2.02", False),  # extra "Dasar"
    "Pengelolaan Data Fakir Miskin Cakupan Daerah Kabupaten/ Kota": ("1.06.05.2.02", True),
    "Pengembangan Kemampuan Potensi Sumber Kesejahteraan Sosial Daerah Kabupaten/ Kota": ("1.06.02.2.03", False),
    "Pemulangan Warga Negara Migran Korban Tindak Kekerasan Dari Titi Debarkasi di Daerah Kabupaten/ Kota Untuk "
    "Dipulangkan Ke Desa/ Kelurahan Asal": ("1.06.03.2.01", False),  # "Titi"
    "Pemeliharaan Taman Makam Pahlawan Nasional Kabupaten/ Kota": ("1.06.07.2.01", True),
    "Perencanaan, Penganggaran dan Evaluasi Kinerja Perangkat Daerah": ("1.06.01.2.01", True),
    "Administrasi Keuangan Perangkat Daerah": ("1.06.01.2.02", True),
    "Administrasi Kepegawaian Perangkat Daerah": ("1.06.01.2.05", True),
    "Administrasi Umum Perangkat Daerah": ("1.06.01.2.06", True),
    "Penyediaan Jasa Penunjang Urusan Pemerintahan Daerah": ("1.06.01.2.08", True),
    "Pemeliharaan Barang Milik Daerah Penunjang Urusan Pemerintahan Daerah": ("1.06.01.2.09", True),
}

# Tahap 5.3 "Nama Sub Kegiatan", in document order, with the kegiatan heading it is listed under:
# (heading code, name as written, code resolved under that heading or None when not confident, exact?)
KOTIM_SUBS: list[tuple[str, str, str | None, bool]] = [
    ("1.06.06.2.01", "Penyediaan Makanan", "1.06.06.2.01.0001", True),
    ("1.06.06.2.01", "Penanganan Khusus bagi Kelompok Rentan", "1.06.06.2.01.0004", True),
    ("1.06.06.2.01", "Penyediaan Sandang", "1.06.06.2.01.0002", True),
    ("1.06.06.2.01", "Penyediaan Tempat Penampungan Pengungsi", "1.06.06.2.01.0007", True),
    # RULES §6 003 #4: belongs to 1.06.06.2.01 (.0005), listed under 1.06.06.2.02
    ("1.06.06.2.02", "Pelayanan Dukungan Psikososial", None, False),
    ("1.06.04.2.01", "Penyediaan Permakanan", "1.06.04.2.01.0001", True),
    ("1.06.04.2.01", "Penyediaan Alat Bantu", "1.06.04.2.01.0003", True),
    ("1.06.04.2.01", "Penyediaan Sandang", "1.06.04.2.01.0002", True),
    ("1.06.04.2.01", "Pemberian Pelayanan Reunifikasi Keluarga", "1.06.04.2.01.0004", True),
    ("1.06.04.2.01", "Pemberian Bimbingan Fisik, Mental, Spiritual, dan Sosial", "1.06.04.2.01.0005", True),
    # 2022: 1.06.04.2.01.0007; in the 2027 list only 1.06.04.2.02.0009 has this name
    # (2.01's successor is .0014 "Fasilitasi Pembuatan Dokumen Kependudukan bagi …")
    (
        "1.06.04.2.01",
        "Fasilitasi Pembuatan Nomor Induk Kependudukan, Akta Kelahiran, Surat Nikah dan Kartu Identitas Anak",
        None,
        False,
    ),
    (
        "1.06.04.2.01",
        "Pemberian Bimbingan Sosial Kepada Keluarga Penyandang Disabilitas Terlantar, Anak Terlantar, Lanjut Usia "
        "Terlantar Serta Gelandangan Pengemis dan Masyarakat",
        "1.06.04.2.01.0006",
        True,
    ),
    ("1.06.04.2.01", "Pemberian Akses ke Layanan Pendidikan dan Kesehatan Dasar", "1.06.04.2.01.0008", True),
    ("1.06.04.2.01", "Pemberian Layanan Data dan Pengaduan", "1.06.04.2.01.0009", True),
    ("1.06.04.2.01", "Pemberian Layanan Kedaruratan", "1.06.04.2.01.0010", True),
    ("1.06.04.2.01", "Pemberian Pelayanan Penelusuran Keluarga", "1.06.04.2.01.0011", True),
    ("1.06.04.2.01", "Pemberian Layanan Rujukan", "1.06.04.2.01.0012", True),
    ("1.06.04.2.02", "Penyediaan Perbekalan Kesehatan di Luar Panti", "1.06.04.2.02.0006", True),
    ("1.06.04.2.02", "Pemberian Layanan Rujukan", "1.06.04.2.02.0013", True),
    ("1.06.05.2.02", "Fasilitasi Bantuan Sosial Kesejahteraan Keluarga", "1.06.05.2.02.0006", True),
    (
        "1.06.02.2.03",
        "Peningkatan Kemampuan Potensi Sumber Kesejahteraan Sosial Kelembagaan Masyarakat Kewenangan Kabupaten/Kota",
        "1.06.02.2.03.0004",
        True,
    ),
    (
        "1.06.03.2.01",
        "Fasilitasi Pemulangan Warga Negara Migran Korban Tindak Kekerasan dari Titik Debarkasi di Daerah Kabupaten/ "
        "Kota untuk dipulangkan ke Desa/ kelurahan Asal",
        "1.06.03.2.01.0003",
        False,  # 2027 adds "Dalam dan Luar Negeri"
    ),
    ("1.06.07.2.01", "Pemeliharaan Taman Makam Pahlawan Nasional Kabupaten/Kota", "1.06.07.2.01.0002", True),
    ("1.06.01.2.01", "Koordinasi dan Penyusunan DPA-SKPD", "1.06.01.2.01.0004", True),
    (
        "1.06.01.2.01",
        "Koordinasi dan Penyusunan Laporan Capaian Kinerja dan Ikhtisar Realisasi Kinerja SKPD",
        "1.06.01.2.01.0006",
        True,
    ),
    ("1.06.01.2.02", "Penyediaan Gaji dan Tunjangan ASN", "1.06.01.2.02.0001", True),
    ("1.06.01.2.02", "Penyediaan Administrasi Pelaksanaan Tugas ASN", "1.06.01.2.02.0002", True),
    ("1.06.01.2.05", "Bimbingan Teknis Implementasi Peraturan Perundang-Undangan", "1.06.01.2.05.0011", True),
    ("1.06.01.2.06", "Penyediaan komponen instalasi listrik/penerangan bangunan kantor", "1.06.01.2.06.0001", True),
    ("1.06.01.2.06", "Penyediaan Peralatan dan Perlengkapan Kantor", "1.06.01.2.06.0002", True),
    ("1.06.01.2.06", "Penyediaan peralatan rumah tangga", "1.06.01.2.06.0003", True),
    ("1.06.01.2.06", "Penyediaan Bahan Logistik Kantor", "1.06.01.2.06.0004", True),
    ("1.06.01.2.06", "Penyediaan Barang Cetak dan Penggandaan", "1.06.01.2.06.0005", False),  # "Cetakan"
    ("1.06.01.2.06", "Penyediaan bahan bacaan dan peraturan perundang-undangan", "1.06.01.2.06.0006", True),
    ("1.06.01.2.06", "Fasilitasi Kunjungan Tamu", "1.06.01.2.06.0008", True),
    ("1.06.01.2.06", "Penyelenggaraan Rapat Koordinasi dan Konsultasi SKPD", "1.06.01.2.06.0009", True),
    ("1.06.01.2.08", "Penyediaan Jasa Surat Menyurat", "1.06.01.2.08.0001", True),
    ("1.06.01.2.08", "Penyediaan Jasa Komunikasi, Sumber Daya Air dan Listrik", "1.06.01.2.08.0002", True),
    ("1.06.01.2.08", "Penyediaan Jasa Pelayanan Umum Kantor", "1.06.01.2.08.0004", True),
    (
        "1.06.01.2.09",
        "Penyediaan Jasa Pemeliharaan, Biaya Pemeliharaan dan Pajak Kendaraan Perorangan Dinas atau Kendaraan Dinas Jabatan",
        "1.06.01.2.09.0001",
        True,
    ),
    (
        "1.06.01.2.09",
        "Penyediaan Jasa Pemeliharaan, Biaya Pemeliharaan, Pajak, dan Perizinan Kendaraan Dinas Operasional atau Lapangan",
        "1.06.01.2.09.0002",
        True,
    ),
    (
        "1.06.01.2.09",
        "Pemeliharaan/Rehabilitasi Sarana dan Prasarana Gedung Kantor atau Bangunan Lainnya",
        "1.06.01.2.09.0010",
        True,
    ),
    ("1.06.01.2.09", "Pemeliharaan/Rehabilitasi Gedung Kantor dan bangunan lainnya", "1.06.01.2.09.0009", True),
]

# The subs that do not resolve under the kegiatan the document gives: where the name is in the list at all.
KOTIM_UNRESOLVED_GLOBAL = {
    "Pelayanan Dukungan Psikososial": "1.06.06.2.01.0005",
    "Fasilitasi Pembuatan Nomor Induk Kependudukan, Akta Kelahiran, Surat Nikah dan Kartu Identitas Anak": "1.06.04.2.02.0009",
}


def _kotim_tahap5(text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, list[str]]]]:
    """(program, kegiatan) pairs of Tahap 5.2 and (PROGRAM header, kegiatan heading, subs) of Tahap 5.3."""
    mid = text.index("3. Menetapkan Kinerja Operasional")
    manajerial = text[text.index("2. Menetapkan Kinerja Manajerial") : mid]
    pairs = re.findall(r"^Nama Program\t:\t([^\n]*)\n(?:.*\n)*?Nama Kegiatan\t:\t([^\n]*)$", manajerial, re.M)
    operasional = text[mid : text.index("Tahap 5 Mendistribusikan")].replace("**", "")
    groups = []
    for block in re.split(r"\n(?=PROGRAM )", operasional)[1:]:
        header = re.match(r"PROGRAM [A-Z/ ]+?(?=[ \t]*(?:\(|\n))", block)
        heading = re.search(r"\(Kegiatan\s*:\s*(.+?)\)[ \t]*\n[ \t]*\n", block, re.S)
        assert header and heading, block[:200]
        subs = re.findall(r"^Nama Sub Kegiatan\t:\t([^\n]*)$", block, re.M)
        groups.append((header.group(0), " ".join(heading.group(1).split()), [s.strip() for s in subs]))
    return [(p.strip(), k.strip()) for p, k in pairs], groups


@pytest.fixture(scope="module")
def kotim() -> tuple[list[tuple[str, str]], list[tuple[str, str, list[str]]]]:
    # the shared documents are always reachable (CI too); their absence is a failure, not a skip
    assert KOTIM.exists(), (f"seed document not found: {KOTIM} (expected ../shared beside the project, beside the "
                            "checkout it was cloned from, or POKIN_SHARED_DIR)")
    return _kotim_tahap5(KOTIM.read_text(encoding="utf-8"))


def _assert_resolves(nom: Nomenklatur, name: str, level: str, parent: str | None, code: str, exact: bool) -> None:
    best = nom.resolve_one(name, level, parent_code=parent)
    assert best is not None and best.code == code, (name, nom.resolve(name, level, parent_code=parent, limit=3))
    assert (best.score == 1.0) is exact, (name, best.score)
    status = nom.check(code, name, level).status
    assert status == ("exact" if exact else "near_miss"), (name, status)


@pytest.mark.unit
def test_kotim_tables_match_document(kotim: tuple[list[tuple[str, str]], list[tuple[str, str, list[str]]]]) -> None:
    pairs, groups = kotim
    assert {p for p, _ in pairs} == set(KOTIM_PROGRAMS)
    assert [k for _, k in pairs] == list(KOTIM_KEGIATAN)
    assert {h for _, h, _ in groups} == set(KOTIM_HEADINGS)
    listed = [(KOTIM_HEADINGS[h][0], s) for _, h, subs in groups for s in subs]
    assert listed == [(parent, name) for parent, name, _, _ in KOTIM_SUBS]


@pytest.mark.unit
@pytest.mark.parametrize(("name", "expected"), KOTIM_PROGRAMS.items())
def test_kotim_programs_resolve(nom: Nomenklatur, name: str, expected: tuple[str, bool]) -> None:
    _assert_resolves(nom, name, "program", None, *expected)


@pytest.mark.unit
def test_kotim_kegiatan_resolve_under_their_program(
    nom: Nomenklatur, kotim: tuple[list[tuple[str, str]], list[tuple[str, str, list[str]]]]
) -> None:
    pairs, groups = kotim
    for program, kegiatan in pairs:
        program_code = KOTIM_PROGRAMS[program][0]
        code, exact = KOTIM_KEGIATAN[kegiatan]
        assert prefix_matches(code, program_code)
        _assert_resolves(nom, kegiatan, "kegiatan", program_code, code, exact)
    for header, heading, _ in groups:
        program = nom.resolve_one(header, "program")
        assert program is not None
        code, exact = KOTIM_HEADINGS[heading]
        _assert_resolves(nom, heading, "kegiatan", program.code, code, exact)


@pytest.mark.unit
@pytest.mark.parametrize(("parent", "name", "code", "exact"), KOTIM_SUBS)
def test_kotim_sub_kegiatan_resolve_under_their_kegiatan(nom: Nomenklatur, parent: str, name: str, code: str | None, exact: bool) -> None:
    if code is None:
        assert nom.resolve_one(name, "sub_kegiatan", parent_code=parent) is None
        anywhere = nom.resolve_one(name, "sub_kegiatan")
        assert anywhere is not None and anywhere.code == KOTIM_UNRESOLVED_GLOBAL[name]
        assert not prefix_matches(anywhere.code, parent)
    else:
        _assert_resolves(nom, name, "sub_kegiatan", parent, code, exact)


@pytest.mark.unit
def test_kotim_distribution_table_program_name(nom: Nomenklatur) -> None:
    # the Tahap 5 distribution table writes "Pemerintah" for "Pemerintahan"
    result = nom.check("1.06.01", "Program Penunjang Urusan Pemerintah Daerah Kabupaten/Kota", "program")
    assert result.status == "near_miss"


def test_certified_codes_are_exact_and_filed_under_their_parent() -> None:
    """What the loader certifies (service.nomenklatur.certified): an exact pair, filed under parents whose
    codes it starts with; case and spacing do not matter, as for check()."""
    from service.nomenklatur import certified

    prog, keg = "1.06.02", "1.06.02.2.01"
    kat = "Peningkatan  kapasitas dan Pendampingan KAT"
    assert certified(prog, "PROGRAM PEMBERDAYAAN SOSIAL", "program", [])
    assert certified(keg, "Pemberdayaan Sosial Komunitas Adat Terpencil (KAT)", "kegiatan", [prog])
    assert certified("1.06.02.2.01.0002", kat, "sub_kegiatan", [keg])
    assert certified("1.06.02.2.01.0002", kat, "sub_kegiatan", [keg, keg])  # two parents, both its kegiatan
    assert not certified("1.06.02.2.01.0002", kat, "sub_kegiatan", [keg, "1.06.02.2.02"])  # one of them another
    assert not certified("1.06.02.2.01.0002", kat, "sub_kegiatan", [None])  # a parent written without a code
    assert not certified("1.06.02.2.01.0004", "Fasilitasi Pemberdayan Sosial KAT yang terpadu dan berkelanjutan",
                         "sub_kegiatan", [keg])  # a typo: near miss
    assert not certified("1.06.02.02.01.0002", kat, "sub_kegiatan", ["1.06.02.02.01"])  # level written as 02
    assert not certified("1.06.02.2.01.0002", kat, "kegiatan", [prog])  # a sub kegiatan code on a kegiatan
    assert not certified("1.06.02.2.01.0002", None, "sub_kegiatan", [keg])  # no name
    assert not certified(None, kat, "sub_kegiatan", [keg])  # no code
    assert not certified("1.05.02", "PROGRAM PEMBERDAYAAN SOSIAL", "program", [])  # not in the list


def test_reference_version_names_the_list_and_the_logic(monkeypatch: pytest.MonkeyPatch) -> None:
    from service import nomenklatur

    version = nomenklatur.reference_version()
    assert 0 < version < 2**60 and version == nomenklatur.reference_version()
    nomenklatur.reference_version.cache_clear()
    monkeypatch.setattr(nomenklatur, "CERTIFICATE_LOGIC", nomenklatur.CERTIFICATE_LOGIC + 1)
    try:
        assert nomenklatur.reference_version() != version
    finally:
        nomenklatur.reference_version.cache_clear()
