"""The embedded engine's wire format: query parameters as a `CYPHER k=v ...` header, `--compact` replies as plain values.

The falkordb client does both in general-purpose Python (a recursive `stringify_param_value`, one
`parse_scalar` call per value, OrderedDicts that the store then copies into dicts). A bulk write spent
~15 s per million elements building the header, and a read ~40% on top of the engine's reply. This
module does the same work with tight code for the shapes pokin sends and receives: lists of flat row
dicts of strings, integers, booleans and None; map projections and scalars back.

The queries in cypher/ return map projections and scalars only, never whole nodes, relationships or
paths (checked with `grep -n RETURN cypher/*.cypher`). Should one ever do, `parse_reply` hands those
values (and points, vectors, temporal values) to the falkordb client's own parser, which needs the
graph object to name labels and property keys, so results stay what the client gave.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from redis.exceptions import ResponseError


class _BadValue(Exception):
    """A parameter value the header cannot carry (params_header then finds where it is, for the message)."""


# ---- parameters -> header text ----------------------------------------------------------------------

# Map keys already checked (str, not empty, no backtick): rows repeat the same few keys, so each is
# checked once; a bounded set, since maps with ever new keys must not grow it without end.
_CLEAN_KEYS: set[str] = set()
_CLEAN_KEYS_MAX = 4096


def _key_text(key: Any) -> str:
    """A map key as the client writes it between backticks; the engine's header parser takes no escapes there."""
    text = key.decode() if isinstance(key, bytes) else str(key)
    if text == "":
        raise ValueError("Cypher map key cannot be empty")
    if "`" in text:
        raise ValueError(f"Cypher map key cannot contain a backtick: {text!r}")
    return text


def _checked_keys(keys: Any) -> bool:
    """Check keys not seen before; True when all are plain str keys the fast path may write as they are."""
    new = [k for k in keys if k not in _CLEAN_KEYS]
    for k in new:
        _key_text(k)  # raises on an empty key or a backtick
    if all(type(k) is str for k in new):
        if len(_CLEAN_KEYS) + len(new) <= _CLEAN_KEYS_MAX:
            _CLEAN_KEYS.update(new)
        return True
    return False


def _quote(s: str) -> str:
    """A Cypher string literal: double quotes, backslash and double quote escaped (as falkordb.helpers.quote_string)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _map(d: dict[Any, Any]) -> str:
    """A Cypher map literal; the common row values (str, int, bool) are written inline, without a call each."""
    if not _CLEAN_KEYS.issuperset(d) and not _checked_keys(d):
        return "{" + ",".join([f"`{_key_text(k)}`:{_encode(v)}" for k, v in d.items()]) + "}"
    return "{" + ",".join([
        (f'`{k}`:"{v}"' if '"' not in v and "\\" not in v else f"`{k}`:{_quote(v)}") if type(v) is str
        else f"`{k}`:{v}" if type(v) is int and -9223372036854775808 <= v <= 9223372036854775807
        else f"`{k}`:true" if v is True
        else f"`{k}`:false" if v is False
        else f"`{k}`:{_encode(v)}"
        for k, v in d.items()]) + "}"


def _list(items: list[Any] | tuple[Any, ...]) -> str:
    return "[" + ",".join([
        (f'"{v}"' if '"' not in v and "\\" not in v else _quote(v)) if type(v) is str
        else _map(v) if type(v) is dict
        else _encode(v)
        for v in items]) + "]"


def _encode(v: Any) -> str:
    """Any parameter value as Cypher text (the general path; _map and _list inline the common cases).

    Raises:
        _BadValue: NaN, infinity, an integer beyond 64 bits, or a type without a Cypher literal.
    """
    t = type(v)
    if t is str:
        return _quote(v)
    if t is int:
        if -9223372036854775808 <= v <= 9223372036854775807:
            return int.__repr__(v)
        raise _BadValue(f"integer {v} is outside the engine's 64-bit range (it would be clamped)")
    if t is dict:
        return _map(v)
    if t is list or t is tuple:
        return _list(v)
    if v is None:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is float:
        if math.isfinite(v):
            return float.__repr__(v)  # the shortest text that reads back as the same double
        raise _BadValue(f"{v!r} has no Cypher literal")
    # subclasses (str and int enums, OrderedDict, ...) and bytes, taken as the client takes them
    for base in (bool, str, int, float, dict, list, tuple):
        if isinstance(v, base):
            return _encode(base(v) if base is not str else str.__str__(v))
    if isinstance(v, bytes):
        return _quote(v.decode())
    raise _BadValue(f"values of type {t.__qualname__} cannot be sent (the client would write {str(v)[:40]!r} as Cypher)")


def _locate(v: Any, path: str) -> tuple[str, str] | None:
    """Where in v the first value _encode refuses sits, and why (only walked after a failure)."""
    if isinstance(v, dict):
        items: Any = ((f".{k}", x) for k, x in v.items())
    elif isinstance(v, (list, tuple)):
        items = ((f"[{i}]", x) for i, x in enumerate(v))
    else:
        try:
            _encode(v)
        except _BadValue as e:
            return path, str(e)
        return None
    for step, x in items:
        if (found := _locate(x, path + step)) is not None:
            return found
    return None


def params_header(params: dict[str, Any]) -> str:
    """The `CYPHER `a`=... `b`=... ` prefix that carries params with the query text.

    The same text as falkordb's Graph._build_params_header, except that booleans are written
    true/false (the client writes True/False, which the engine reads the same) and that values the
    client would turn into wrong Cypher are refused; empty params give "" (the client gives "CYPHER ").

    Raises:
        TypeError: a value the engine cannot take as written (NaN, infinity, an integer beyond
            64 bits, a type without a Cypher literal, a string with a NUL character); the message names
            the parameter (and for a bad value the path in it).
        ValueError: an empty parameter name or map key, or one containing a backtick (as the client).
    """
    if not isinstance(params, dict):
        raise TypeError("'params' must be a dict")
    if not params:
        return ""
    parts = ["CYPHER"]
    for key, value in params.items():
        name = key.decode() if isinstance(key, bytes) else str(key)
        if name == "":
            raise ValueError("Cypher parameter name cannot be empty")
        if "`" in name:
            raise ValueError(f"Cypher parameter name cannot contain a backtick: {name!r}")
        try:
            text = _encode(value)
        except _BadValue:
            where, why = _locate(value, name) or (name, "cannot be sent")
            raise TypeError(f"parameter {where}: {why}") from None
        if "\x00" in text:  # one scan of the text, not a test per string
            raise TypeError(f"parameter {name}: a string holds a NUL character, where the engine's query parser stops")
        parts.append(f"`{name}`={text}")
    parts.append("")
    return " ".join(parts)


# ---- compact reply -> plain values ------------------------------------------------------------------

# Value type codes of the compact format (falkordb.query_result.ResultSetScalarTypes), written as
# literals in the hot code below: 1 null, 2 string, 3 integer, 4 boolean, 5 double, 6 array, 10 map.
_NEEDS_GRAPH = {7: "relationship", 8: "node", 9: "path"}


def _other(t: int, v: Any, graph: Any) -> Any:
    """Values the queries in cypher/ never return: the falkordb client's parser, as before this module."""
    from falkordb.query_result import parse_scalar

    if t in _NEEDS_GRAPH and graph is None:
        raise TypeError(f"the reply holds a whole {_NEEDS_GRAPH[t]}; parse_reply needs the graph to read it "
                        "(or return a map projection such as n {.*})")
    if not 0 < t <= 16:
        raise TypeError(f"unknown value type {t} in the engine's reply")
    return parse_scalar([t, v], graph)


def _value(t: int, v: Any, graph: Any) -> Any:
    # Integers arrive as RESP integers (int already), so strings and integers pass through as they are.
    if 1 < t < 4:  # string (2) or integer (3): the common case, tested first and cheaply
        return v
    if t == 10:  # map
        return _map_value(v, graph)
    if t == 1:  # null
        return None
    if t == 6:  # array
        return [b if 1 < a < 4 else _map_value(b, graph) if a == 10 else _value(a, b, graph) for a, b in v]
    if t == 4:  # boolean
        return v == "true"
    if t == 5:  # double
        return float(v)
    return _other(t, v, graph)


def _map_value(m: list[Any], graph: Any) -> dict[str, Any]:
    """A map arrives flat, [key, [type, value], key, [type, value], ...]: pairs taken off one iterator."""
    pairs = iter(m)
    return {k: v if 1 < t < 4 else _value(t, v, graph) for k, (t, v) in zip(pairs, pairs, strict=True)}


def _decoded(x: Any) -> Any:
    """A reply read without decode_responses: bytes to str throughout (errors and numbers untouched)."""
    if isinstance(x, bytes):
        return x.decode()
    if isinstance(x, list):
        return [_decoded(y) for y in x]
    return x


def check_errors(reply: list[Any]) -> None:
    """Raise the engine's error carried in the reply (first element, or last for a run-time error), as the client does."""
    if reply and isinstance(reply[0], ResponseError):
        raise reply[0]
    if reply and isinstance(reply[-1], ResponseError):
        raise reply[-1]


def parse_reply(reply: list[Any], graph: Any = None) -> tuple[list[str], list[list[Any]]]:
    """Column names and rows of a GRAPH.QUERY --compact reply, as plain Python values.

    Maps come back as dict, arrays as list, doubles as float, booleans as bool. Nodes, relationships,
    paths, points, vectors and temporal values go through the falkordb client's parser (nodes,
    relationships and paths need `graph`, the client's Graph, to name labels and properties).

    Raises:
        redis.exceptions.ResponseError: the reply carries the engine's error.
        TypeError: a node, relationship or path without `graph`, or an unknown type code.
    """
    check_errors(reply)
    if len(reply) == 1 or not reply[0]:  # statistics only (a write without RETURN), or no columns
        return [], []
    header, rows = reply[0], reply[1]
    names = [h[1] if isinstance(h, (list, tuple)) else h for h in header]
    if isinstance(names[0], bytes):
        return parse_reply(_decoded(reply), graph)
    value, map_value = _value, _map_value
    return names, [[v if 1 < t < 4 else map_value(v, graph) if t == 10 else value(t, v, graph)
                    for t, v in row] for row in rows]


def run_time_ms(reply: list[Any]) -> float:
    """The engine's own execution time from the statistics at the end of a reply (0 when absent)."""
    stats = reply[-1] if reply else []
    for line in stats if isinstance(stats, list) else []:
        if isinstance(line, bytes):
            line = line.decode()
        if isinstance(line, str) and "internal execution time" in line:
            return float(line.split(": ")[1].split(" ")[0])
    return 0.0


# ---- connections for coroutines ---------------------------------------------------------------------


class _EngineProtocol:
    """One connection's asyncio protocol: feeds what arrives to hiredis and hands the reply to the waiting
    request (one command at a time per connection). Leaner than asyncio streams on the same loop."""

    def __init__(self) -> None:
        import hiredis

        self.parser = hiredis.Reader(encoding="utf-8", replyError=ResponseError)
        self.transport: Any = None
        self.waiter: Any = None
        self.lost: BaseException | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)
        reply = self.parser.gets()
        if reply is not False and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(reply)

    def eof_received(self) -> bool:
        return False  # close the transport: connection_lost follows

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = exc or EOFError("the engine closed the connection")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)

    def pause_writing(self) -> None: ...

    def resume_writing(self) -> None: ...

    async def round_trip(self, packed: bytes) -> Any:
        import asyncio

        if self.lost is not None:
            raise self.lost
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(packed)
        return await self.waiter


class AsyncConnections:
    """Connections to the engine for one asyncio event loop, for GraphStore.aread.

    A request takes an idle connection (or opens one), writes its command, reads the reply with hiredis
    (the parser the client's sync connections use) and gives the connection back: as many connections
    as requests in flight, none while a request waits for anything else.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._idle: list[_EngineProtocol] = []

    async def command(self, args: tuple[Any, ...], reply_timeout: float, retry: bool) -> Any:
        """Send one command and return its reply; an error reply raises ResponseError.

        A connection that fails is closed. A read (`retry`) that failed on a reused connection (the
        engine may have closed an idle one) is sent once more on a new one; a write is not, as the
        engine may have run it already.

        Raises:
            OSError, EOFError, TimeoutError: no reply (connection refused, closed, or reply_timeout passed).
            ResponseError: the engine answered with an error.
        """
        import asyncio

        import hiredis

        packed = hiredis.pack_command(args)
        for attempt in (1, 2):
            reused = bool(self._idle)
            conn = self._idle.pop() if reused else await self._open()
            try:
                reply = await asyncio.wait_for(conn.round_trip(packed), reply_timeout)
            except (OSError, EOFError, TimeoutError):
                conn.transport.close()
                if retry and reused and attempt == 1:
                    continue
                raise
            except BaseException:  # cancelled (the client went away): the reply may still come on it
                conn.transport.close()
                raise
            self._idle.append(conn)
            if isinstance(reply, ResponseError):
                raise reply
            return reply
        raise AssertionError("unreachable")

    async def _open(self) -> _EngineProtocol:
        import asyncio

        _, protocol = await asyncio.get_running_loop().create_connection(_EngineProtocol, self.host, self.port)
        return protocol

    def close(self) -> None:
        """Close the idle connections (on a loop already closed they close when collected)."""
        while self._idle:
            with contextlib.suppress(RuntimeError):  # "Event loop is closed"
                self._idle.pop().transport.close()
