"""Synthetic cascades: pemda x perangkat daerah x fan-out per level, with orphans and crosscutting.

Each pemda gets one RPJMD plan (tujuan -> sasaran of the Kepala Daerah) and one pohon kinerja per
perangkat daerah: tujuan -> sasaran -> program -> kegiatan -> sub kegiatan, each element with
indikator (targets, some realisasi), anggaran (on sub kegiatan, rolled up to kegiatan and program)
and owning jabatan. Sprinkled in, at configurable rates:

- crosscutting: an extra parent one level up in the same plan (a program under two sasaran, ...);
  every perangkat daerah's tujuan hangs under a sasaran of its pemda's RPJMD plan (cross-plan parent),
  some under two;
- orphans: a kegiatan with no parent (and its sub kegiatan), a sub kegiatan with no parent;
- unowned sub kegiatan and budget roll-ups that do not add up, so the checks have findings.

Deterministic for a given seed: the same Scale and seed give the same documents, so a graph can be
rebuilt in memory (networkx) after the load without holding all documents at once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from service.models import (
    Anggaran,
    Element,
    Indikator,
    Jabatan,
    JabatanLevel,
    Level,
    Nilai,
    Nomenklatur,
    PlanDocument,
    PlanKind,
    PlanMeta,
    Polaritas,
)


@dataclass(frozen=True)
class Scale:
    """How big: pemda, perangkat daerah per pemda, and the fan-out per level.

    fanout = (tujuan per plan, sasaran per tujuan, program per sasaran, kegiatan per program,
    sub kegiatan per kegiatan); each count varies by -1/0/+1 around the value (mean kept) when >= 2.
    """

    name: str
    pemda: int
    perangkat_daerah: int
    fanout: tuple[int, int, int, int, int]
    rpjmd: tuple[int, int] = (3, 4)  # tujuan, sasaran per tujuan of the RPJMD plan
    crosscut: float = 0.05  # share of program/kegiatan/sub kegiatan with an extra parent in the plan
    cross_plan_extra: float = 0.2  # share of tujuan with a second RPJMD sasaran as parent
    orphan_plans: float = 0.3  # share of plans with an orphan kegiatan (+ its subs) and an orphan sub kegiatan
    unowned: float = 0.05  # share of sub kegiatan no jabatan owns
    rollup_off: float = 0.03  # share of kegiatan whose pagu differs from the sum below it
    misfiled: float = 0.02  # share of kegiatan / sub kegiatan given a code from under another parent
    off_target: float = 0.03  # share of realisasi far from the target (an unrealistic capaian)
    second_indikator: float = 0.2
    seed: int = 20250101

    def expected_elements(self) -> int:
        t, s, p, k, u = self.fanout
        per_plan = t * (1 + s * (1 + p * (1 + k * (1 + u))))
        rpjmd = self.rpjmd[0] * (1 + self.rpjmd[1])
        return self.pemda * (self.perangkat_daerah * per_plan + rpjmd)


# ~35 perangkat daerah, ~5,000 elements (~140 per plan with the -1/0/+1 jitter; 15 in the RPJMD plan).
KABUPATEN = Scale("kabupaten", pemda=1, perangkat_daerah=35, fanout=(1, 2, 3, 3, 7))
# ~500 pemda, ~1,000,000 elements (~55 per plan with the jitter; 15 per RPJMD plan).
NATIONAL = Scale("national", pemda=500, perangkat_daerah=35, fanout=(1, 2, 2, 3, 3))
SCALES = {s.name: s for s in (KABUPATEN, NATIONAL)}

PERANGKAT_DAERAH = [
    "Dinas Pendidikan", "Dinas Kesehatan", "Dinas Pekerjaan Umum dan Penataan Ruang", "Dinas Perumahan dan Kawasan Permukiman",
    "Satuan Polisi Pamong Praja", "Dinas Sosial", "Dinas Tenaga Kerja", "Dinas Pemberdayaan Perempuan dan Perlindungan Anak",
    "Dinas Ketahanan Pangan", "Dinas Lingkungan Hidup", "Dinas Kependudukan dan Pencatatan Sipil",
    "Dinas Pemberdayaan Masyarakat dan Desa", "Dinas Pengendalian Penduduk dan Keluarga Berencana", "Dinas Perhubungan",
    "Dinas Komunikasi dan Informatika", "Dinas Koperasi dan Usaha Mikro", "Dinas Penanaman Modal dan PTSP",
    "Dinas Kepemudaan dan Olahraga", "Dinas Perpustakaan dan Kearsipan", "Dinas Perikanan", "Dinas Pariwisata",
    "Dinas Pertanian", "Dinas Perdagangan", "Dinas Perindustrian", "Badan Perencanaan Pembangunan Daerah",
    "Badan Pengelolaan Keuangan dan Aset Daerah", "Badan Pendapatan Daerah", "Badan Kepegawaian dan Pengembangan SDM",
    "Badan Penanggulangan Bencana Daerah", "Badan Kesatuan Bangsa dan Politik", "Inspektorat", "Sekretariat Daerah",
    "Sekretariat DPRD", "Rumah Sakit Umum Daerah", "Dinas Kebudayaan", "Dinas Kearsipan", "Dinas Pemadam Kebakaran",
]
KONDISI = [
    "Meningkatnya kualitas pelayanan", "Meningkatnya cakupan layanan", "Menurunnya angka", "Terpenuhinya kebutuhan dasar",
    "Meningkatnya kapasitas", "Terselenggaranya tata kelola", "Meningkatnya akses masyarakat terhadap",
    "Terkendalinya", "Meningkatnya partisipasi", "Tersedianya sarana dan prasarana",
]
SASARAN_OBJEK = [
    "Pemerlu Pelayanan Kesejahteraan Sosial", "penduduk miskin", "anak usia sekolah", "ibu hamil dan balita",
    "usaha mikro", "jalan kabupaten dalam kondisi mantap", "desa mandiri", "administrasi kependudukan",
    "aparatur sipil negara", "ruang terbuka hijau", "pangan lokal", "perempuan dan anak", "kawasan permukiman",
]
PEMDA_NAMES = [
    "Aceh Besar", "Deli Serdang", "Agam", "Kampar", "Muaro Jambi", "Banyuasin", "Lampung Selatan", "Bangka", "Bintan",
    "Bogor", "Banyumas", "Sleman", "Malang", "Serang", "Badung", "Lombok Barat", "Kupang", "Sambas", "Kotawaringin Timur",
    "Banjar", "Kutai Kartanegara", "Bulungan", "Minahasa", "Donggala", "Gowa", "Kolaka", "Gorontalo", "Mamuju", "Maluku Tengah",
    "Halmahera Utara", "Jayapura", "Manokwari", "Buleleng", "Bengkulu Selatan", "Bontang",
]
# Targets and realisasi as documents write them (parsed once each).
PERCENT = ["75%", "80,5%", "85%", "90%", "93,59%", "95%", "98,25%", "100%"]
COUNTS = ["12 Orang", "55 Orang", "120 Orang", "1.250 Orang", "4 Dokumen", "10 Lembaga", "25 Desa", "300 Keluarga"]


@cache
def _nilai(raw: str) -> Nilai:
    return Nilai.parse(raw)


def _rupiah(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@lru_cache(maxsize=1)
def _nomenklatur() -> dict[str, list[tuple[str, str, str]]]:
    """Official (code, name, parent_code) of bidang 1.06 per level, so the nomenclature checks do real lookups."""
    from service.nomenklatur import Nomenklatur as Reference

    out: dict[str, list[tuple[str, str, str]]] = {"program": [], "kegiatan": [], "sub_kegiatan": []}
    for e in Reference.default().entries("1.06"):
        if e.level in out:
            out[e.level].append((e.code, e.name, e.parent_code or ""))
    return out


@lru_cache(maxsize=1)
def _children() -> dict[str, list[tuple[str, str, str]]]:
    """Official entries by parent code: the kegiatan of a program, the sub kegiatan of a kegiatan."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for level in ("kegiatan", "sub_kegiatan"):
        for entry in _nomenklatur()[level]:
            out.setdefault(entry[2], []).append(entry)
    return out


def _code_under(rng: random.Random, scale: Scale, level: str, parent_code: str | None) -> tuple[str, str, str]:
    """An official (code, name, parent) under the parent's code, as real plans file them; a few misfiled."""
    under = _children().get(parent_code or "", [])
    if under and rng.random() >= scale.misfiled:
        return rng.choice(under)
    return rng.choice(_nomenklatur()[level])


# Realisasi as a share of the target: mostly near it; off_target picks one far from it.
NEAR = (0.85, 0.9, 0.95, 1.0, 1.0, 1.02, 1.05)
FAR = (0.2, 3.0)


def _realisasi(rng: random.Random, scale: Scale, target: Nilai, satuan: str) -> Nilai:
    share = rng.choice(FAR) if rng.random() < scale.off_target else rng.choice(NEAR)
    value = (target.value or 0) * share
    if satuan == "%":
        return _nilai(f"{min(value, 100.0):.2f}%".replace(".", ","))
    return _nilai(f"{round(value):,} {satuan}".replace(",", "."))


def _count(rng: random.Random, n: int) -> int:
    return n + rng.choice((-1, 0, 1)) if n >= 2 else n


def _indikator(rng: random.Random, scale: Scale, subject: str, with_realisasi: bool) -> list[Indikator]:
    out = []
    for k in range(2 if rng.random() < scale.second_indikator else 1):
        if (k + len(subject)) % 2:
            name, satuan, target = f"Persentase {subject}", "%", rng.choice(PERCENT)
        else:
            raw = rng.choice(COUNTS)
            name, satuan, target = f"Jumlah {subject}", raw.split(" ", 1)[1], raw
        real = {2024: _realisasi(rng, scale, _nilai(target), satuan)} if with_realisasi else {}
        out.append(Indikator(id=f"i{k + 1}", name=name, satuan=satuan, polaritas=Polaritas.positif,
                             target={2024: _nilai(target), 2025: _nilai(target)}, realisasi=real))
    return out


def rpjmd_plan(scale: Scale, pemda_slug: str, pemda_name: str) -> PlanDocument:
    rng = random.Random(f"{scale.seed}/{pemda_slug}/rpjmd")
    elements = []
    for t in range(1, scale.rpjmd[0] + 1):
        elements.append(Element(id=f"t{t}", level=Level.tujuan, statement=f"{rng.choice(KONDISI)} {rng.choice(SASARAN_OBJEK)}",
                                jabatan=["kada"], indikator=_indikator(rng, scale, rng.choice(SASARAN_OBJEK), True)))
        for s in range(1, scale.rpjmd[1] + 1):
            elements.append(Element(id=f"s{t}-{s}", level=Level.sasaran, parents=[f"t{t}"], jabatan=["kada"],
                                    statement=f"{rng.choice(KONDISI)} {rng.choice(SASARAN_OBJEK)}",
                                    indikator=_indikator(rng, scale, rng.choice(SASARAN_OBJEK), True)))
    return PlanDocument(
        plan=PlanMeta(id=f"{pemda_slug}-rpjmd", pemda=pemda_name, perangkat_daerah=f"Pemerintah {pemda_name} (Kepala Daerah)",
                      tahun=2025, periode="2021-2026", kind=PlanKind.rpjmd, title=f"RPJMD {pemda_name} 2021-2026"),
        jabatan=[Jabatan(id="kada", name=f"Bupati {pemda_name}", level=JabatanLevel.kepala_daerah, unit=pemda_name)],
        elements=elements,
    )


def pd_plan(scale: Scale, pemda_slug: str, pemda_name: str, n: int) -> PlanDocument:
    """The pohon kinerja of perangkat daerah number n of a pemda."""
    rng = random.Random(f"{scale.seed}/{pemda_slug}/{n}")
    nomen = _nomenklatur()
    pd_name = PERANGKAT_DAERAH[n % len(PERANGKAT_DAERAH)]
    rpjmd_id = f"{pemda_slug}-rpjmd"
    rpjmd_sasaran = [f"s{t}-{s}" for t in range(1, scale.rpjmd[0] + 1) for s in range(1, scale.rpjmd[1] + 1)]
    ft, fs, fp, fk, fu = scale.fanout
    jabatan = [Jabatan(id="kadis", name=f"Kepala {pd_name}", level=JabatanLevel.kepala_dinas, unit=pd_name)]
    elements: list[Element] = []
    by_level: dict[Level, list[str]] = {lv: [] for lv in Level}

    def add(el: Element) -> None:
        elements.append(el)
        by_level[el.level].append(el.id)

    def subject() -> str:
        return rng.choice(SASARAN_OBJEK)

    def extra(level: Level, primary: str) -> list[str]:
        """Crosscutting: maybe a second parent of the level above, in this plan."""
        pool = by_level[level]
        if len(pool) > 1 and rng.random() < scale.crosscut:
            other = rng.choice(pool)
            if other != primary:
                return [primary, other]
        return [primary]

    def sub_kegiatan(eid: str, parents: list[str], owner: str | None, parent_code: str | None) -> int:
        code, name, _ = _code_under(rng, scale, "sub_kegiatan", parent_code)
        pagu = rng.randrange(50_000, 2_000_000) * 1000
        owned = [owner] if owner and rng.random() >= scale.unowned else []
        add(Element(id=eid, level=Level.sub_kegiatan, parents=parents, statement=f"Terlaksananya {name.lower()}",
                    nomenklatur=Nomenklatur(name=name, code=code), anggaran=Anggaran(raw=_rupiah(pagu)), jabatan=owned,
                    indikator=_indikator(rng, scale, subject(), rng.random() < 0.5)))
        return pagu

    def kegiatan(eid: str, parents: list[str], owner: str | None, n_sub: int, parent_code: str | None) -> int:
        code, name, _ = _code_under(rng, scale, "kegiatan", parent_code)
        el_index = len(elements)
        add(Element(id=eid, level=Level.kegiatan, parents=parents, statement="placeholder"))
        total = sum(sub_kegiatan(f"{eid}-{u}", extra(Level.kegiatan, eid), owner, code) for u in range(1, n_sub + 1))
        if rng.random() < scale.rollup_off:
            total += rng.randrange(1, 100) * 1_000_000
        elements[el_index] = Element(
            id=eid, level=Level.kegiatan, parents=parents, statement=f"Meningkatnya {name.lower()}",
            nomenklatur=Nomenklatur(name=name, code=code), anggaran=Anggaran(raw=_rupiah(total)), jabatan=[owner] if owner else [],
            indikator=_indikator(rng, scale, subject(), False))
        return total

    for t in range(1, _count(rng, ft) + 1):
        tid = f"t{t}"
        parents = [f"{rpjmd_id}/{rng.choice(rpjmd_sasaran)}"]
        if rng.random() < scale.cross_plan_extra:
            second = f"{rpjmd_id}/{rng.choice(rpjmd_sasaran)}"
            if second != parents[0]:
                parents.append(second)
        add(Element(id=tid, level=Level.tujuan, parents=parents, statement=f"{rng.choice(KONDISI)} {subject()}",
                    jabatan=["kadis"], indikator=_indikator(rng, scale, subject(), True)))
        for s in range(1, _count(rng, fs) + 1):
            sid = f"s{t}-{s}"
            kabid = f"kabid-{t}-{s}"
            jabatan.append(Jabatan(id=kabid, name=f"Kepala Bidang {s} {pd_name}", level=JabatanLevel.eselon_iii,
                                   unit=pd_name, atasan="kadis"))
            add(Element(id=sid, level=Level.sasaran, parents=[tid], statement=f"{rng.choice(KONDISI)} {subject()}",
                        jabatan=["kadis"], indikator=_indikator(rng, scale, subject(), True)))
            for p in range(1, _count(rng, fp) + 1):
                pid = f"p{t}-{s}-{p}"
                kasi = f"kasi-{t}-{s}-{p}"
                jabatan.append(Jabatan(id=kasi, name=f"Kepala Seksi {p} Bidang {s}", level=JabatanLevel.eselon_iv,
                                       unit=pd_name, atasan=kabid))
                code, name, _ = rng.choice([e for e in nomen["program"] if e[0] in _children()])
                el_index = len(elements)
                add(Element(id=pid, level=Level.program, parents=extra(Level.sasaran, sid), statement="placeholder"))
                total = sum(kegiatan(f"k{t}-{s}-{p}-{k}", extra(Level.program, pid), kasi, _count(rng, fu), code)
                            for k in range(1, _count(rng, fk) + 1))
                old = elements[el_index]
                elements[el_index] = Element(
                    id=pid, level=Level.program, parents=old.parents, statement=f"Meningkatnya {name.lower()}",
                    nomenklatur=Nomenklatur(name=name, code=code), anggaran=Anggaran(raw=_rupiah(total)),
                    jabatan=[kabid], indikator=_indikator(rng, scale, subject(), False))
    if rng.random() < scale.orphan_plans:  # orphans: a kegiatan with nothing above it, and a lone sub kegiatan
        kegiatan("k-orphan", [], None, 1, None)
        sub_kegiatan("u-orphan", [], None, None)

    return PlanDocument(
        plan=PlanMeta(id=f"{pemda_slug}-pd{n:02d}", pemda=pemda_name, perangkat_daerah=pd_name, tahun=2025, periode="2021-2026",
                      kind=PlanKind.pohon_kinerja, title=f"Pohon Kinerja {pd_name} {pemda_name} 2025"),
        jabatan=jabatan,
        elements=elements,
    )


def pemda_slug(scale: Scale, i: int) -> tuple[str, str]:
    base = PEMDA_NAMES[i % len(PEMDA_NAMES)]
    name = f"Kabupaten {base}" + (f" {i // len(PEMDA_NAMES) + 1}" if scale.pemda > len(PEMDA_NAMES) else "")
    slug = "-".join(base.lower().split()) + (f"-{i:03d}" if scale.pemda > 1 else "")
    return slug, name


def pemda_plans(scale: Scale, i: int) -> list[PlanDocument]:
    """The plans of pemda number i: its RPJMD plan first, then one per perangkat daerah."""
    slug, name = pemda_slug(scale, i)
    return [rpjmd_plan(scale, slug, name)] + [pd_plan(scale, slug, name, n) for n in range(1, scale.perangkat_daerah + 1)]


def iter_pemda(scale: Scale) -> Iterator[list[PlanDocument]]:
    """Plans pemda by pemda, so a national cascade never needs to be held in memory whole."""
    for i in range(scale.pemda):
        yield pemda_plans(scale, i)


def graph_rows(doc: PlanDocument) -> Iterator[tuple[str, str, str | None]]:
    """(uid, level, parent uid or None) per element and parent, as the store links them."""
    pid = doc.plan.id
    for el in doc.elements:
        uid = f"{pid}/{el.id}"
        if not el.parents:
            yield uid, el.level.value, None
        for parent in el.parents:
            yield uid, el.level.value, parent if "/" in parent else f"{pid}/{parent}"
