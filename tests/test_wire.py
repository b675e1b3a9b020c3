"""The embedded engine's wire layer (service.wire): the same parameter text and the same rows as the falkordb client."""

from __future__ import annotations

import math
from collections import OrderedDict
from enum import IntEnum, StrEnum
from typing import Any

import pytest
import redis
from falkordb.graph import Graph
from falkordb.node import Node

from service.errors import PokinError, QueryError
from service.plans import list_plans
from service.store import GraphStore, NamedQuery
from service.wire import params_header, parse_reply, run_time_ms


class Level(StrEnum):
    program = "program"


class Rank(IntEnum):
    two = 2


def client_header(params: dict[str, Any]) -> str:
    """The falkordb client's own header text (the method reads nothing from its graph)."""
    return Graph._build_params_header(Graph.__new__(Graph), params)


STRINGS = [
    "", "plain", "it's", 'say "hi"', "back\\slash\\", '\\"', '\\\\"', 'x" }) DETACH DELETE n //', "' RETURN 1 //",
    '" RETURN 1 //', '\\" RETURN 1 //', "line\nbreak\ttab\rreturn", "Rp – ±ñ", "🌳 pohon", "e\u0301", "\u200b\u2028\u2029",
    "كينرجا", "`tick`", "{not: 'a map'}", "$x", "null", "CYPHER x=1", "a" * 10_000,
]
NUMBERS = [0, 1, -1, 42, -306_749_630, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 0.1, 1e-20, -2.5, 1e16, 1e300, 5e-324, 123.456, 3.0, -0.0]
NESTED = [
    None, True, False, [], {}, [[]], [1, "a", None, True, 2.5],
    {"uid": "p/1", "seq": 0, "has_target": True, "target_years": [2024, 2025], "notes": None},
    {"a": [1, {"b": None, "c": [True, False], "d": {"e": 'q"uote'}}], "with space": 1, "ü-key": "v", 'q"k': 1, "b\\k": 2},
    [{"child": "p/k1", "parent": "p/p"}, {"child": "p/k2", "parent": "p/p", "extra": ["x", 1]}],
]
VALUES = STRINGS + NUMBERS + NESTED


def _no_bool(v: Any) -> bool:
    if isinstance(v, dict):
        return all(_no_bool(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return all(_no_bool(x) for x in v)
    return not isinstance(v, bool)


# ---- params_header: unit --------------------------------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize("value", [v for v in VALUES if _no_bool(v)], ids=repr)
def test_header_is_the_clients_text(value: Any) -> None:
    params = {"x": value, "other": ["a", 1]}
    assert params_header(params) == client_header(params)


@pytest.mark.unit
def test_header_writes_booleans_in_lower_case() -> None:
    # the client writes True/False, which the engine reads the same
    assert params_header({"a": True, "b": [False], "c": {"d": True}}) == "CYPHER `a`=true `b`=[false] `c`={`d`:true} "
    assert client_header({"a": True}) == "CYPHER `a`=True "


@pytest.mark.unit
def test_header_takes_subclasses_and_tuples_as_the_client_does() -> None:
    params = {"level": Level.program, "rank": Rank.two, "row": OrderedDict(a=1), "pair": ("a", 1), "keys": {1: "x"}}
    assert params_header(params) == client_header(params)
    assert params_header({"raw": b'b"y'}) == 'CYPHER `raw`="b\\"y" '  # the client would write b'b"y'


@pytest.mark.unit
def test_header_of_no_parameters_is_empty() -> None:
    assert params_header({}) == ""
    with pytest.raises(TypeError, match="must be a dict"):
        params_header([("a", 1)])  # type: ignore[arg-type]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"x": math.nan}, r"parameter x: nan has no Cypher literal"),
        ({"x": [1, math.inf]}, r"parameter x\[1\]: inf has no Cypher literal"),
        ({"rows": [{"a": 1}, {"a": -math.inf}]}, r"parameter rows\[1\]\.a: -inf"),
        ({"x": 2**63}, r"parameter x: integer 9223372036854775808 is outside the engine's 64-bit range"),
        ({"rows": [{"pagu": -(2**63) - 1}]}, r"parameter rows\[0\]\.pagu: integer .* 64-bit range"),
        ({"x": {"when": object()}}, r"parameter x\.when: values of type object cannot be sent"),
        ({"x": {1, 2}}, r"parameter x: values of type set cannot be sent"),
        ({"x": ["ok", "a\x00b"]}, r"parameter x: a string holds a NUL character"),
    ],
)
def test_header_refuses_what_the_engine_would_misread(params: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        params_header(params)


@pytest.mark.unit
@pytest.mark.parametrize("params", [{"": 1}, {"a`b": 1}, {"x": {"": 1}}, {"x": [{"k`": 1}]}])
def test_header_refuses_keys_the_engine_cannot_parse(params: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="empty|backtick"):
        params_header(params)
    with pytest.raises(ValueError, match="empty|backtick"):
        client_header(params)


# ---- parse_reply: unit ----------------------------------------------------------------------------


def reply(*rows: list[Any], columns: tuple[str, ...] = ("x",)) -> list[Any]:
    return [[[1, c] for c in columns], list(rows), ["Cached execution: 0", "Query internal execution time: 1.17 milliseconds"]]


@pytest.mark.unit
def test_parse_reply_gives_plain_values() -> None:
    m = ["s", [2, "v"], "n", [1, None], "i", [3, 7], "b", [4, "false"], "d", [5, "2.5"], "l", [6, [[3, 1], [10, ["k", [2, "w"]]]]]]
    cols, rows = parse_reply(reply([[2, "a"], [3, -5], [1, None], [4, "true"], [5, "1e-20"], [6, [[2, "x"], [6, []]]], [10, m]],
                                   columns=("s", "i", "n", "b", "d", "a", "m")))
    assert cols == ["s", "i", "n", "b", "d", "a", "m"]
    assert rows == [["a", -5, None, True, 1e-20, ["x", []], {"s": "v", "n": None, "i": 7, "b": False, "d": 2.5, "l": [1, {"k": "w"}]}]]
    assert type(rows[0][6]) is dict


@pytest.mark.unit
def test_parse_reply_without_rows_or_columns() -> None:
    assert parse_reply([["Nodes deleted: 1", "Query internal execution time: 0.5 milliseconds"]]) == ([], [])
    assert parse_reply([[[1, "x"]], [], ["Cached execution: 1"]]) == (["x"], [])


@pytest.mark.unit
def test_parse_reply_decodes_bytes() -> None:
    raw = [[[1, b"x"], [1, b"m"]], [[[2, b"\xc3\xa4"], [10, [b"k", [4, b"true"], b"d", [5, b"0.5"]]]]],
           [b"Query internal execution time: 2 milliseconds"]]
    assert parse_reply(raw) == (["x", "m"], [["ä", {"k": True, "d": 0.5}]])
    assert run_time_ms(raw) == 2.0


@pytest.mark.unit
@pytest.mark.parametrize("where", ["first", "last"])
def test_parse_reply_raises_the_error_the_reply_carries(where: str) -> None:
    error = redis.exceptions.ResponseError("Division by zero")
    broken = [error] if where == "first" else [[[1, "x"]], [], error]
    with pytest.raises(redis.exceptions.ResponseError, match="Division by zero"):
        parse_reply(broken)


@pytest.mark.unit
def test_parse_reply_needs_the_graph_for_whole_nodes() -> None:
    with pytest.raises(TypeError, match="whole node"):
        parse_reply(reply([[8, [0, [0], []]]]))
    with pytest.raises(TypeError, match="unknown value type 99"):
        parse_reply(reply([[99, "?"]]))


@pytest.mark.unit
def test_run_time_ms_reads_the_statistics() -> None:
    assert run_time_ms(reply()) == 1.17
    assert run_time_ms([["Nodes created: 1"]]) == 0.0


# ---- against the engine: integration --------------------------------------------------------------

ECHO = NamedQuery("echo", "RETURN $x AS x", frozenset({"x"}), False, "hands its parameter back")


def _client_rows(store: GraphStore, text: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows as the store built them before service.wire: the client's query and parser, OrderedDicts to dicts."""
    def plain(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    result = store.engine._graph.ro_query(text, params)  # type: ignore[attr-defined]
    header = [h[1] for h in result.header]
    return [dict(zip(header, (plain(v) for v in row), strict=True)) for row in result.result_set]


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True is not 1, 3.0 is not 3)."""
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(b) is list and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a == 0:
        return type(b) is float and b == 0 and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) and a == b


@pytest.mark.integration
def test_values_come_back_exactly(store: GraphStore) -> None:
    """RETURN $x gives back x for every value: nothing escapes its string literal, nothing is re-typed."""
    for value in VALUES + [("a", 1)]:
        (row,) = store.engine.run(ECHO, {"x": value}, 30)
        expected = list(value) if isinstance(value, tuple) else value
        assert _same(expected, row["x"]), value
        assert list(row) == ["x"]


@pytest.mark.integration
def test_values_come_back_as_the_client_gives_them(store: GraphStore) -> None:
    # The engine writes doubles with 15 significant digits: 0.1 + 0.2 comes back as 0.3 on both paths.
    for value in VALUES + [0.1 + 0.2, {"k": 1 / 3}]:
        assert _same(_client_rows(store, ECHO.text, {"x": value}), store.engine.run(ECHO, {"x": value}, 30)), value


@pytest.mark.integration
@pytest.mark.parametrize("value", ['" RETURN 1 //', "' RETURN 1 //", '\\" RETURN 1 AS x //', '"}) MATCH (n) DETACH DELETE n //',
                                   '\\\\" RETURN 1 AS x //', "`, 1 AS y //"])
def test_values_cannot_inject_cypher(store: GraphStore, value: str) -> None:
    from .test_store import SAMPLE_PARAMS

    store.write("write_plan", **SAMPLE_PARAMS["write_plan"])
    assert store.engine.run(ECHO, {"x": value}, 30) == [{"x": value}]
    assert store.engine.run(ECHO, {"x": {"k": [value]}}, 30) == [{"x": {"k": [value]}}]
    assert len(store.read("list_plan_elements", plan_id="demo")) == 2


@pytest.mark.integration
def test_refused_values_are_query_errors(store: GraphStore) -> None:
    with pytest.raises(QueryError, match=r"query 'echo': parameter x\.k: nan"):
        store.engine.run(ECHO, {"x": {"k": math.nan}}, 30)
    with pytest.raises(QueryError, match="64-bit"):
        store.engine.run(ECHO, {"x": 2**64}, 30)


@pytest.mark.integration
def test_engine_errors_are_pokin_errors(store: GraphStore) -> None:
    bad = NamedQuery("bad", "UNWIND [1, 0] AS d RETURN 1 / d AS x", frozenset(), False, "")
    with pytest.raises(PokinError, match="query 'bad' failed: Division by zero"):
        store.engine.run(bad, {}, 30)
    syntax = NamedQuery("syntax", "RETURN foo(", frozenset(), False, "")
    with pytest.raises(PokinError, match="query 'syntax' failed"):
        store.engine.run(syntax, {}, 30)


@pytest.mark.integration
def test_whole_nodes_go_through_the_clients_parser(store: GraphStore) -> None:
    from .test_store import SAMPLE_PARAMS

    store.write("write_plan", **SAMPLE_PARAMS["write_plan"])
    q = NamedQuery("node", "MATCH (e:Element {uid: 'demo/p'}) RETURN e, e.uid AS uid, point({latitude: 1.5, longitude: 2}) AS at",
                   frozenset(), False, "")
    (row,) = store.engine.run(q, {}, 30)
    assert isinstance(row["e"], Node) and row["e"].properties["uid"] == "demo/p"
    assert row["uid"] == "demo/p" and row["at"] == {"latitude": 1.5, "longitude": 2.0}
    assert _client_rows(store, q.text, {}) == [row]


@pytest.mark.integration
def test_server_time_is_recorded(store: GraphStore) -> None:
    store.engine.run(ECHO, {"x": 1}, 30)
    assert store.engine.last_run_ms > 0  # type: ignore[attr-defined]


@pytest.mark.integration
def test_a_connection_returning_bytes_parses_the_same(store: GraphStore) -> None:
    text = params_header({"x": {"s": "ä", "l": [1, 2.5, None, True]}}) + ECHO.text
    raw = redis.Redis(port=store.engine.server.port).execute_command("GRAPH.RO_QUERY", "pokin", text, "--compact")  # type: ignore[attr-defined]
    assert isinstance(raw[0][0][1], bytes)
    assert parse_reply(raw) == (["x"], [[{"s": "ä", "l": [1, 2.5, None, True]}]])


def _real_reads(store: GraphStore) -> list[tuple[str, dict[str, Any]]]:
    """Every read query in cypher/ with parameters that give rows on the seed plans."""
    plans = [p.id for p in list_plans(store)]
    plan = "kotim-dinsos-2025"
    elements = [r["id"] for r in store.read("list_plan_elements", plan_id=plan)]
    uids = [f"{plan}/{e}" for e in elements]
    one = {"plan_id": plan}
    per_query: dict[str, dict[str, Any]] = {
        "get_plan_tree": one, "get_plan": one, "get_plan_summary": one, "list_plans": {}, "list_plan_elements": one,
        "list_jabatan": one, "get_external_ancestors": one,
        "get_element": {"uid": uids[-1]},
        "impact_rows": {"cuts": uids[:3], "plan_id": plan},
        "get_plans_exist": {"plan_ids": plans},
    }
    reads = [(name, params) for name, params in per_query.items() if name in store.queries]
    reads += [("trace_rows", {"uid": u}) for u in uids[-5:] + uids[:5]]
    # every query the checks read, with the parameters the rules give it from the default configuration
    from service.checks import READS_ALSO, RULES, Context, load_config

    ctx = Context(store, plans, load_config())
    checks = {q: {"plan_ids": plans, **r.params(ctx)} for r in RULES.values() for q in (r.query, *READS_ALSO.get(r.query, ()))}
    assert set(checks) == {name for name in store.queries if name.startswith("check_")} | {"list_absent", "list_plan_scales"}
    reads += sorted(checks.items())
    return reads


@pytest.mark.integration
def test_real_queries_give_the_clients_rows(seeded_store: GraphStore) -> None:
    reads = _real_reads(seeded_store)
    assert len(reads) > 30
    for name, params in reads:
        rows = seeded_store.read(name, **params)
        assert _same(_client_rows(seeded_store, seeded_store.queries[name].text, params), rows), name
    assert seeded_store.read("get_plan_tree", plan_id="kotim-dinsos-2025")  # non-trivial rows were compared
