"""Plan files: every problem named by file, line and field; nothing written on error."""

from __future__ import annotations

from pathlib import Path

import pytest

from seed.loader import parse_plan_text, read_plans
from service.errors import InvalidPlan

from .conftest import SEED_DIR

pytestmark = pytest.mark.unit

GOOD = """\
plan: {id: p, pemda: Kabupaten X, perangkat_daerah: Dinas Sosial, tahun: 2025, kind: pohon_kinerja}
jabatan:
  - {id: kadis, name: Kepala Dinas, level: kepala_dinas}
elements:
  - id: t
    level: tujuan
    statement: Meningkatnya kesejahteraan
    jabatan: [kadis]
  - id: s
    level: sasaran
    statement: Meningkatnya pelayanan
    parents: [t]
    anggaran: "372.250.370"
"""


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(InvalidPlan) as exc:
        parse_plan_text(text, "plan.yaml")
    return [(p.line, p.field, p.message) for p in exc.value.problems]


def test_good_plan_parses() -> None:
    doc = parse_plan_text(GOOD, "plan.yaml")
    assert [e.id for e in doc.elements] == ["t", "s"]
    assert doc.elements[1].anggaran is not None and doc.elements[1].anggaran.pagu == 372250370


def test_duplicate_id_names_line_and_field() -> None:
    text = GOOD + "  - id: s\n    level: program\n    statement: again\n"
    assert problems_of(text) == [(14, "elements[2].id", "duplicate element id 's' (first at elements[1])")]


def test_a_duplicate_id_is_one_problem_not_three() -> None:
    """The second 's' under the first 's' was also reported as contributing to itself and as a cycle."""
    text = GOOD + "  - id: s\n    level: program\n    statement: again\n    parents: [s]\n"
    assert problems_of(text) == [(14, "elements[2].id", "duplicate element id 's' (first at elements[1])")]


def test_a_file_that_is_not_text_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "plan.xlsx").write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xa9")
    with pytest.raises(InvalidPlan) as exc:
        read_plans([tmp_path / "plan.xlsx"])
    assert [str(p) for p in exc.value.problems] == [f"{tmp_path / 'plan.xlsx'}: not UTF-8 text: a plan file is YAML text "
                                                     "(see seed/README.md)"]
    (tmp_path / "plan.xlsx").unlink()
    with pytest.raises(InvalidPlan, match=r"folder holds no plan file \(\.yaml or \.yml\)"):
        read_plans([tmp_path])


def test_unknown_parent() -> None:
    text = GOOD.replace("parents: [t]", "parents: [nope]")
    assert problems_of(text) == [(12, "elements[1](id=s).parents[0]", "unknown parent 'nope'")]


def test_unknown_jabatan() -> None:
    text = GOOD.replace("jabatan: [kadis]", "jabatan: [kabid]")
    assert problems_of(text) == [(8, "elements[0](id=t).jabatan[0]", "unknown jabatan 'kabid'")]


def test_cycle() -> None:
    text = GOOD.replace("    statement: Meningkatnya kesejahteraan\n", "    statement: Meningkatnya kesejahteraan\n    parents: [s]\n")
    (line, field, message), = problems_of(text)
    assert field == "elements[0](id=t).parents" and line == 8
    assert message == "cycle: t -> s -> t"


def test_wrong_type_and_unknown_level() -> None:
    text = GOOD.replace("tahun: 2025", "tahun: dua ribu").replace("level: sasaran", "level: sasaran_program")
    found = problems_of(text)
    assert (1, "plan.tahun", "Input should be a valid integer, unable to parse string as an integer (got 'dua ribu')") in found
    assert any(f == "elements[1](id=s).level" and line == 10 for line, f, _ in found)


def test_unparseable_amount() -> None:
    text = GOOD.replace('anggaran: "372.250.370"', 'anggaran: "tiga ratus juta"')
    assert problems_of(text) == [(13, "elements[1](id=s).anggaran", "not a rupiah amount: 'tiga ratus juta'")]


def test_unparseable_target() -> None:
    text = GOOD + "    indikator:\n      - name: Persentase X\n        target: {2025: banyak}\n"
    assert problems_of(text) == [(16, "elements[1](id=s).indikator[0].target", "no number in 'banyak'")]


def test_numbers_that_are_not_finite() -> None:
    text = GOOD + "    indikator:\n      - name: Persentase X\n        target: {2025: .inf}\n        realisasi: {2025: .nan}\n"
    assert problems_of(text) == [(16, "elements[1](id=s).indikator[0].target", "not a finite number: inf"),
                                 (17, "elements[1](id=s).indikator[0].realisasi", "not a finite number: nan")]
    huge = GOOD.replace('anggaran: "372.250.370"', f'anggaran: "{"9" * 400}"')
    assert problems_of(huge) == [(13, "elements[1](id=s).anggaran",
                                  f"number too large: '{'9' * 20}'... (400 characters) (got '{'9' * 56}...)")]


def test_unknown_field_and_missing_field() -> None:
    text = GOOD.replace("    statement: Meningkatnya pelayanan\n", "    kinerja: Meningkatnya pelayanan\n")
    found = problems_of(text)
    assert (9, "elements[1](id=s).statement", "required field is missing") in found
    assert (11, "elements[1](id=s).kinerja", "unknown field") in found


def test_invalid_yaml_names_line() -> None:
    (line, field, message), = problems_of("plan: {id: p\nelements: [")
    assert line == 2 and field == "" and message.startswith("not valid YAML")


def test_a_file_nested_too_deep_is_refused_at_the_line_it_gets_too_deep() -> None:
    """The YAML parser recursed out of stack on such files (a 500 from the API)."""
    assert problems_of("plan: " + "[" * 1000 + "]" * 1000) == [(1, "", "nested more than 100 levels deep")]
    block = "plan:\n" + "".join("  " * i + "a:\n" for i in range(1, 2000))
    assert problems_of(block) == [(101, "", "nested more than 100 levels deep")]


def test_aliases_that_multiply_values_are_refused() -> None:
    """289 bytes of anchors, each repeating the one before ten times, took 7 s and 350 MB to expand; the
    loader now stops once it has built more values than the text could hold without aliases."""
    bomb = "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 6)) + "plan: *a5\n"
    [(line, field, message)] = problems_of(bomb)
    assert message.startswith("too many values once its aliases (*name) are expanded") and field == ""
    # an alias used as intended: a list written once, used twice
    reused = GOOD.replace("    jabatan: [kadis]", "    jabatan: &owners [kadis]") + "    jabatan: *owners\n"
    assert [e.jabatan for e in parse_plan_text(reused, "plan.yaml").elements] == [["kadis"], ["kadis"]]


def test_values_the_engine_cannot_hold_are_refused_with_their_line_and_field() -> None:
    """A review got a 400 naming the engine's statement parameter, without file, line or field, for an
    amount beyond 64 bits, a year of twenty digits, and a NUL character."""
    budget = problems_of(GOOD.replace('"372.250.370"', '"9.223.372.036.854.775.807"'))
    assert budget == [(13, "elements[1](id=s).anggaran",
                       "more than Rp 1.000.000.000.000.000, not a regional budget: '9.223.372.036.854.775.807'")]
    assert parse_plan_text(GOOD.replace('"372.250.370"', '"1.000.000.000.000.000"'), "p.yaml").elements[1].anggaran.pagu == 10**15
    year = problems_of(GOOD + '    indikator:\n      - {name: Persentase X, target: {99999999999999999999: "90"}}\n')
    assert year == [(15, "elements[1](id=s).indikator[0].target", "year 99999999999999999999 is outside 1990-2100")]
    nul = problems_of(GOOD.replace("statement: Meningkatnya pelayanan", 'statement: "Meningkatnya\\0 pelayanan"'))
    assert nul == [(11, "elements[1].statement", "holds a NUL character")]


def test_a_raw_control_character_is_refused_at_its_line() -> None:
    """A raw NUL or ESC byte in the text (not an escape in quotes) was a 500 from the API and a traceback."""
    for char, name in (("\x00", "U+0000"), ("\x1b", "U+001B")):
        text = GOOD.replace("statement: Meningkatnya pelayanan", f"statement: Meningkatnya{char} pelayanan")
        assert problems_of(text) == [(11, "", f"not valid YAML: character {name} is not allowed in a plan file")]


def test_a_year_with_decimals_is_no_year() -> None:
    assert problems_of(GOOD + '    indikator:\n      - {name: Persentase X, target: {2025.5: "90"}}\n') == [
        (15, "elements[1](id=s).indikator[0].target", "expected a year such as 2025, got 2025.5")]


def test_declared_pagu_must_match_raw() -> None:
    text = GOOD.replace('anggaran: "372.250.370"', 'anggaran: {raw: "372.250.370", pagu: 372250371}')
    assert problems_of(text) == [(13, "elements[1](id=s).anggaran",
                                  "pagu 372250371 does not match raw '372.250.370' (reads as 372250370)")]


def test_all_problems_of_all_files_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD.replace("parents: [t]", "parents: [x]"))
    (tmp_path / "b.yaml").write_text(GOOD.replace("id: p,", "id: q,").replace("jabatan: [kadis]", "jabatan: [y]"))
    with pytest.raises(InvalidPlan) as exc:
        read_plans([tmp_path])
    assert [(Path(p.file).name, p.line) for p in exc.value.problems] == [("a.yaml", 12), ("b.yaml", 8)]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidPlan, match="no such file or folder"):
        read_plans([tmp_path / "missing.yaml"])


def _dumped(ind) -> str:
    """What the loader's hand-written values_json must equal: json.dumps of pydantic's dumps."""
    import json

    def years(values):
        return {str(y): n.model_dump(exclude_defaults=True) for y, n in sorted(values.items())}

    return json.dumps({"target": years(ind.target), "realisasi": years(ind.realisasi), "capaian": years(ind.capaian)},
                      ensure_ascii=False)


@pytest.mark.parametrize("raw", ["93,59%", "55 Orang", "-", "5 - 10 %", "32.400.0000", "1.250", "0"])
def test_stored_values_equal_pydantics_dump(raw: str) -> None:
    """The loader writes targets and realisasi as JSON by hand; it must equal json.dumps of pydantic's dump."""
    from service.loading import values_json
    from service.models import Indikator

    ind = Indikator.model_validate({"name": "x", "target": {2025: raw, 2024: "12 Orang"}, "realisasi": {2025: raw}})
    assert values_json(ind) == _dumped(ind)


def test_stored_values_equal_pydantics_dump_for_odd_values() -> None:
    """Quotes, backslashes, control and non-ASCII characters, NaN and the infinities, a malformed value."""
    from service.loading import values_json
    from service.models import Indikator

    ind = Indikator.model_validate({"name": "x", "target": {
        2024: {"raw": 'a "q" \\ é\n\u0001', "value": float("nan"), "lo": float("inf"), "hi": -float("inf"),
               "unit": "%\t", "wellformed": False},
        2023: {"raw": "1", "value": 1e300}}, "capaian": {2025: {"raw": "0.1", "value": 0.1}}})
    assert values_json(ind) == _dumped(ind)
    assert '"value": NaN' in values_json(ind)


def test_stored_values_of_every_seed_indikator_equal_pydantics_dump() -> None:
    from service.loading import values_json

    inds = [i for _, d in read_plans([SEED_DIR]) for e in d.elements for i in e.indikator]
    assert len(inds) == 232
    assert [values_json(i) for i in inds] == [_dumped(i) for i in inds]


class _RecordingStore:
    """A store that records write_plan statements and fails the one numbered `fail_at` (1-based)."""

    def __init__(self, fail_at: int | None = None):
        self.fail_at, self.statements, self.compacted = fail_at, [], False

    def prepare(self, name: str, expect_write: bool | None = None, **params: object) -> object:
        assert name == "write_plan" and expect_write
        return params["plan_ids"]

    def execute(self, plan_ids: object) -> list[dict]:
        if self.fail_at is not None and len(self.statements) + 1 == self.fail_at:
            raise RuntimeError(f"statement {self.fail_at} failed")
        self.statements.append(plan_ids)
        return [{}]

    def compact(self) -> None:
        self.compacted = True


def _seed_docs() -> list:
    from seed.loader import read_plans
    from service.loading import _order_by_dependency

    return _order_by_dependency(read_plans([SEED_DIR]))


def test_plan_writer_sends_whole_plans_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of whole plans, in the order added, across add() calls; compaction once at the end."""
    from service import loading

    monkeypatch.setattr(loading, "BATCH_PLANS", 2)
    docs = _seed_docs()
    store = _RecordingStore()
    with loading.PlanWriter(store) as w:  # type: ignore[arg-type]
        w.add(docs[:3])
        w.add(docs[3:])
    assert [p for batch in store.statements for p in batch] == [d.plan.id for _, d in docs]
    assert all(len(batch) <= 2 for batch in store.statements) and len(store.statements) == 4
    assert [x["id"] for x in w.written] == [d.plan.id for _, d in docs] and store.compacted


def test_plan_writer_stops_when_the_caller_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error in the caller's block: what was queued is sent, the batch being gathered is not, the
    sender thread ends, and nothing claims a finished load (no compaction)."""
    from service import loading

    monkeypatch.setattr(loading, "BATCH_PLANS", 2)
    docs = _seed_docs()
    store = _RecordingStore()
    with pytest.raises(KeyboardInterrupt), loading.PlanWriter(store) as w:  # type: ignore[arg-type]
        w.add(docs[:3])  # the first two plans are sent, the third waits for a batch
        raise KeyboardInterrupt
    assert not w._thread.is_alive() and not store.compacted
    assert store.statements == [[docs[0][1].plan.id, docs[1][1].plan.id]]


def test_plan_writer_stops_at_the_first_failing_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing after a failed statement is sent, the error reaches the caller, no compaction claims success."""
    from service import loading

    monkeypatch.setattr(loading, "BATCH_PLANS", 1)
    docs = _seed_docs()
    store = _RecordingStore(fail_at=3)
    with pytest.raises(RuntimeError, match="statement 3 failed"):
        loading.write_documents(store, docs)  # type: ignore[arg-type]
    assert store.statements == [[docs[0][1].plan.id], [docs[1][1].plan.id]] and not store.compacted


def test_plan_writer_passes_an_error_of_the_progress_callback_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender thread keeps draining (the caller never blocks on a full queue) and nothing is sent
    after the failure; the caller gets the error, with no compaction."""
    from service import loading

    monkeypatch.setattr(loading, "BATCH_PLANS", 1)
    docs = _seed_docs()
    store = _RecordingStore()

    def progress(plan: str, n: int, total: int) -> None:
        if n == 2:
            raise RuntimeError("progress sink failed")

    with pytest.raises(RuntimeError, match="progress sink failed"), loading.PlanWriter(store, progress) as w:  # type: ignore[arg-type]
        w.add(docs)
    assert store.statements == [[docs[0][1].plan.id], [docs[1][1].plan.id]] and not store.compacted
    assert not w._thread.is_alive()
