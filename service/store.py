"""The graph store: named queries from cypher/, run on Neo4j 5 or on the embedded engine."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
import weakref
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, LiteralString, Protocol, cast

from service import wire
from service.config import Settings
from service.errors import GraphUnavailable, PokinError, QueryError

log = logging.getLogger(__name__)
# the log a restart replays without a rewrite (and the size a store opened with more of it compacts at)
COMPACT_AFTER_BYTES = 1_000_000

CYPHER_DIR = Path(__file__).resolve().parent.parent / "cypher"

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_WRITE = re.compile(r"\b(CREATE|MERGE|SET|DELETE|REMOVE|DETACH|FOREACH)\b", re.I)
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


@dataclass(frozen=True)
class NamedQuery:
    """One query file: its text, the parameters it uses, and whether it writes."""

    name: str
    text: str
    params: frozenset[str]
    write: bool
    description: str


def _code_only(text: str) -> str:
    """The query without // comments and string literals, for finding parameters and write clauses."""
    no_comments = "\n".join(ln.split("//", 1)[0] for ln in text.splitlines())
    return _STRING.sub("''", no_comments)


def load_queries(directory: Path = CYPHER_DIR) -> Mapping[str, NamedQuery]:
    """Read every .cypher file once into a frozen mapping name -> NamedQuery.

    Raises:
        QueryError: the folder is missing or a file is empty.
    """
    if not directory.is_dir():
        raise QueryError(f"query folder not found: {directory}")
    out: dict[str, NamedQuery] = {}
    for path in sorted(directory.glob("*.cypher")):
        text = path.read_text(encoding="utf-8")
        code = _code_only(text)
        if not code.strip():
            raise QueryError(f"{path.name} holds no query")
        description = " ".join(
            ln.strip()[2:].strip() for ln in text.splitlines() if ln.strip().startswith("//")
        ).strip()
        out[path.stem] = NamedQuery(
            name=path.stem,
            text=text,
            params=frozenset(_PARAM.findall(code)),
            write=bool(_WRITE.search(code)),
            description=description,
        )
    return MappingProxyType(out)


@dataclass(frozen=True)
class Prepared:
    """A statement ready to send: the query and what the adapter made of its parameters (the embedded
    engine: the whole statement text). Preparing in one thread and sending in another lets a loader
    build the next statement while the engine runs this one (service.loading.PlanWriter)."""

    query: NamedQuery
    payload: Any


class Engine(Protocol):
    """What an adapter provides: run one statement, read or write, returning rows as dicts."""

    name: str

    def run(self, query: NamedQuery, params: dict[str, Any], timeout: float) -> list[dict[str, Any]]: ...

    def prepare(self, query: NamedQuery, params: dict[str, Any]) -> Prepared: ...

    def run_prepared(self, prepared: Prepared, timeout: float) -> list[dict[str, Any]]: ...

    def compact(self) -> None: ...

    def close(self) -> None: ...


class GraphStore:
    """Runs named queries, checking their parameters (aiosql-style undeclared/unused errors)."""

    def __init__(self, engine: Engine, queries: Mapping[str, NamedQuery], timeout: float = 30.0):
        self.engine = engine
        self.queries = queries
        self.timeout = timeout

    def query(self, name: str, expect_write: bool | None = None, **params: Any) -> list[dict[str, Any]]:
        """Run query `name` with exactly the parameters it declares.

        Raises:
            QueryError: unknown query, missing or unused parameters, or read/write mismatch.
            GraphUnavailable: the engine cannot be reached.
        """
        return self.engine.run(self._checked(name, expect_write, params), params, self.timeout)

    def prepare(self, name: str, expect_write: bool | None = None, **params: Any) -> Prepared:
        """Check and prepare query `name` (as query() does) without sending it; execute() sends it."""
        return self.engine.prepare(self._checked(name, expect_write, params), params)

    def execute(self, prepared: Prepared) -> list[dict[str, Any]]:
        return self.engine.run_prepared(prepared, self.timeout)

    def _checked(self, name: str, expect_write: bool | None, params: dict[str, Any]) -> NamedQuery:
        q = self.queries.get(name)
        if q is None:
            raise QueryError(f"unknown query {name!r}; known: {', '.join(sorted(self.queries))}")
        missing = q.params - params.keys()
        unused = params.keys() - q.params
        if missing:
            raise QueryError(f"query {name!r} needs parameter(s) {', '.join(sorted(missing))}")
        if unused:
            raise QueryError(f"query {name!r} does not use parameter(s) {', '.join(sorted(unused))}")
        if expect_write is not None and expect_write != q.write:
            raise QueryError(f"query {name!r} is a {'write' if q.write else 'read'} query")
        return q

    def read(self, name: str, **params: Any) -> list[dict[str, Any]]:
        return self.query(name, expect_write=False, **params)

    def read_many(self, requests: list[tuple[str, dict[str, Any]]]) -> Generator[list[dict[str, Any]], None, None]:
        """The rows of several reads, in the order given, all sent at once, so the engine computes the
        next while the caller works on the rows of one. Close the iterator to abandon the rest.

        On the embedded engine they travel pipelined on a connection of their own: the engine goes from
        one to the next without waiting for the caller (run_many). Other engines run them two at a time
        in worker threads.

        Raises:
            QueryError: an unknown query or wrong parameters (before anything is sent).
        """
        checked = [(self._checked(name, False, params), params) for name, params in requests]
        run_many = getattr(self.engine, "run_many", None)
        if run_many is not None:
            return cast(Generator[list[dict[str, Any]], None, None], run_many(checked, self.timeout))
        return _run_in_threads(self.engine, checked, self.timeout)

    async def aread(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """read() for a coroutine: on the embedded engine the event loop waits for the reply on a socket
        of its own instead of a thread waiting for it; other engines run read() in a worker thread."""
        q = self._checked(name, False, params)
        arun = getattr(self.engine, "arun", None)
        if arun is not None:
            return cast(list[dict[str, Any]], await arun(q, params, self.timeout))
        import anyio.to_thread

        return await anyio.to_thread.run_sync(lambda: self.engine.run(q, params, self.timeout))

    def write(self, name: str, **params: Any) -> list[dict[str, Any]]:
        return self.query(name, expect_write=True, **params)

    def ensure_schema(self) -> None:
        """Create the indexes (files named create_index_*; an index that exists already is fine), and fill
        in plan properties that versions before them did not write.

        When one was created, the engine's log is compacted at once, so its snapshot holds the indexes:
        the embedded engine fills an index created in the log it replays after a crash only once the
        replay is over, and until then every lookup of the replayed writes scanned all elements (after
        kill -9 in a first load of 40,000 elements, replaying it took 11.6 s instead of 1.1 s).
        """
        created = False
        for name in sorted(n for n in self.queries if n.startswith("create_index_")):
            try:
                self.write(name)
                created = True
            except PokinError as e:
                if "already" not in str(e).lower() and "equivalent" not in str(e).lower():
                    raise
        if created:
            self.compact()
        # data written by older versions: what later versions write with every plan
        if self.read("count_plans_without_search_text")[0]["plans"]:
            self.write("set_plan_search_text")

    def compact(self) -> None:
        self.engine.compact()

    def compact_after_write(self) -> None:
        """After a write the caller is about to acknowledge (the API's load and delete): compact the
        engine's log once the writes since the last compaction reach COMPACT_AFTER_BYTES (smaller logs
        replay in well under a second at a restart), and only log a failure: the write is committed,
        and answering 500 would tell the client it was not. Compacting after every write forked the
        engine once per request, and concurrent writers failed in it."""
        uncompacted = getattr(self.engine, "uncompacted_bytes", None)
        if uncompacted is not None and uncompacted() < COMPACT_AFTER_BYTES:
            return
        try:
            self.engine.compact()
        except Exception as e:  # noqa: BLE001 - logged, see above
            log.warning("compacting the engine's log after a write failed (the write is kept): %s", e)

    def close(self) -> None:
        self.engine.close()


def _run_in_threads(engine: Engine, checked: list[tuple[NamedQuery, dict[str, Any]]],
                    timeout: float) -> Generator[list[dict[str, Any]], None, None]:
    """read_many for engines without run_many: all submitted now, two run at a time in worker threads."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pokin-read")
    futures = [pool.submit(engine.run, q, params, timeout) for q, params in checked]

    def results() -> Generator[list[dict[str, Any]], None, None]:
        try:
            for f in futures:
                yield f.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    return results()


# ---- adapters ---------------------------------------------------------------------------


class EmbeddedEngine:
    """FalkorDB through its native client's connection (never its Bolt endpoint: see the README)."""

    name = "embedded"
    params_header = staticmethod(wire.params_header)  # an attribute, so the bench can time it on an instance

    def __init__(self, data_dir: Path, graph: str = "pokin", timeout: float = 30.0, threads: int | None = None):
        from falkordb import FalkorDB

        from service import embedded

        self.server = embedded.start(data_dir, threads=threads, graph=graph)
        # A socket timeout beyond the query timeout: a server that stops answering gives an error, not a hang.
        self._db = FalkorDB(host="127.0.0.1", port=self.server.port, socket_timeout=timeout + 30, socket_connect_timeout=10)
        self._graph = self._db.select_graph(graph)
        # One connection per calling thread, kept for the thread's life: the client's pooled
        # execute_command (checkout, retry wrapper, metrics hooks) cost more client CPU per API request
        # than the parsing of the reply.
        self._pool = self._db.connection.connection_pool
        self._local = threading.local()
        self._connections: weakref.WeakSet[Any] = weakref.WeakSet()
        # and for coroutines (arun), the connections of each event loop
        self._apools: weakref.WeakKeyDictionary[Any, wire.AsyncConnections] = weakref.WeakKeyDictionary()
        # the engine's own execution time of the last statement (the bench reads it)
        self.last_run_ms = 0.0
        if self.server.owned and self.uncompacted_bytes() > COMPACT_AFTER_BYTES:
            # Replaying raw graph writes is slow (a million-element load did not finish in 8 minutes);
            # after a rewrite with a snapshot preamble the same data loads in seconds.
            self.compact()

    def uncompacted_bytes(self) -> int:
        """Bytes of the append-only log written since its last rewrite (a file a rewrite removes while
        they are counted counts 0)."""
        total = 0
        for path in (self.server.data_dir / "appendonlydir").glob("*.incr.aof"):
            with contextlib.suppress(FileNotFoundError):
                total += path.stat().st_size
        return total

    def run(self, query: NamedQuery, params: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        """Send GRAPH.QUERY / GRAPH.RO_QUERY on the client's connection; service.wire writes the parameters
        and reads the reply, faster than the client's general-purpose code for both (see service/wire.py).

        Raises:
            QueryError: a parameter value the engine cannot take (NaN, an integer beyond 64 bits, ...).
        """
        return self.run_prepared(self.prepare(query, params), timeout)

    def prepare(self, query: NamedQuery, params: dict[str, Any]) -> Prepared:
        """The statement text: the parameter header, then the query."""
        try:
            return Prepared(query, self.params_header(params) + query.text)
        except (TypeError, ValueError) as e:
            raise QueryError(f"query {query.name!r}: {e}") from e

    def run_prepared(self, prepared: Prepared, timeout: float) -> list[dict[str, Any]]:
        import redis

        query = prepared.query
        self.last_run_ms = 0.0
        for attempt in range(3):
            try:
                reply = self._command(*self._statement(query, prepared.payload, timeout), retry=not query.write)
                rows = self._rows(reply)
                break
            except redis.exceptions.BusyLoadingError:
                time.sleep(0.2 * (attempt + 1))
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
                raise self._unreachable(e) from e
            except redis.exceptions.ResponseError as e:
                raise PokinError(f"query {query.name!r} failed: {e}") from e
        else:
            raise GraphUnavailable("embedded engine is still loading its data")
        self.last_run_ms = wire.run_time_ms(reply)
        return rows

    def _statement(self, query: NamedQuery, text: str, timeout: float) -> tuple[Any, ...]:
        """The command that runs a prepared statement text (read-only where the query only reads)."""
        return ("GRAPH.QUERY" if query.write else "GRAPH.RO_QUERY", self._graph.name, text, "--compact",
                "timeout", int(timeout * 1000))

    def _rows(self, reply: Any) -> list[dict[str, Any]]:
        columns, rows = wire.parse_reply(reply, self._graph)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def _connection(self) -> Any:
        """A new connection with the client's settings, outside its pool's count: the pool counts every
        connection it makes until one goes back to it, and these are disconnected instead, so made by
        the pool they ran it out (redis-py's default of 100) after as many checks."""
        conn = self._pool.connection_class(**self._pool.connection_kwargs)
        self._connections.add(conn)
        return conn

    def _unreachable(self, e: BaseException) -> GraphUnavailable:
        return GraphUnavailable(f"embedded engine not reachable on port {self.server.port}: {e}")

    def _command(self, *args: Any, retry: bool) -> Any:
        """Send one command on this thread's own connection and read its reply (an error reply raises).

        A connection that fails is dropped. A read is sent once more on a new connection (the engine
        may have closed an idle one); a write is not, as the engine may have run it already.
        """
        import redis

        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self._connection()
            try:
                conn.send_command(*args)
                return conn.read_response()
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                conn.disconnect()
                self._local.conn = None
                if not retry or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def run_many(self, checked: list[tuple[NamedQuery, dict[str, Any]]],
                 timeout: float) -> Generator[list[dict[str, Any]], None, None]:
        """Reads pipelined on a connection of their own (GraphStore.read_many): all written now, each
        reply read when the caller asks for the next rows. The engine runs them one after the other
        without waiting for the caller (with worker threads it waited while they, holding the
        interpreter lock, finished their turn of the rules' Python).

        Raises:
            QueryError: a parameter value the engine cannot take (nothing is sent);
            GraphUnavailable: no engine. The replies raise PokinError for a failed statement (the rest
            are abandoned) and GraphUnavailable.
        """
        import redis

        commands = [self._statement(q, self.prepare(q, params).payload, timeout) for q, params in checked]
        conn = self._connection()  # never a thread's own: these replies queue on it in order
        try:
            conn.send_packed_command(conn.pack_commands(commands))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
            conn.disconnect()
            raise self._unreachable(e) from e
        return self._replies(conn, [q for q, _ in checked])

    def _replies(self, conn: Any, queries: list[NamedQuery]) -> Generator[list[dict[str, Any]], None, None]:
        import redis

        try:
            for q in queries:
                try:
                    rows = self._rows(conn.read_response())
                except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
                    raise self._unreachable(e) from e
                except redis.exceptions.ResponseError as e:
                    raise PokinError(f"query {q.name!r} failed: {e}") from e
                yield rows
        finally:
            conn.disconnect()

    async def arun(self, query: NamedQuery, params: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        """run() for a coroutine (GraphStore.aread): the same statement and reply, on connections of the
        running event loop, so an API worker serves other requests while the engine computes.

        Raises:
            QueryError, PokinError, GraphUnavailable: as run().
        """
        import redis

        statement = self._statement(query, self.prepare(query, params).payload, timeout)
        try:
            reply = await self._aconnections().command(statement, reply_timeout=timeout + 30, retry=not query.write)
            return self._rows(reply)
        except (OSError, EOFError, TimeoutError, redis.exceptions.ConnectionError) as e:
            raise self._unreachable(e) from e
        except redis.exceptions.ResponseError as e:
            raise PokinError(f"query {query.name!r} failed: {e}") from e

    def _aconnections(self) -> wire.AsyncConnections:
        """The idle connections of the running event loop (one set per loop: a worker has one)."""
        import asyncio

        loop = asyncio.get_running_loop()
        if loop not in self._apools:
            self._apools[loop] = wire.AsyncConnections("127.0.0.1", self.server.port)
        return self._apools[loop]

    # ---- a first load through the bulk endpoint (service.bulk) ----

    @property
    def graph_name(self) -> str:
        return str(self._graph.name)

    def _raw(self, *args: Any) -> Any:
        """One command on this thread's connection, sent once; engine errors as PokinError."""
        import redis

        try:
            return self._command(*args, retry=False)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
            raise self._unreachable(e) from e
        except redis.exceptions.ResponseError as e:
            raise PokinError(f"{args[0]} failed: {e}") from e

    def bulk(self, args: tuple[Any, ...]) -> None:
        self._raw(*args)

    def is_empty(self) -> bool:
        """No node in the store's graph (or no graph yet)."""
        reply = self._raw("GRAPH.RO_QUERY", self.graph_name, "MATCH (n) RETURN 1 LIMIT 1", "--compact")
        return not reply[1]

    def keys(self, pattern: str) -> list[str]:
        return [k.decode() if isinstance(k, bytes) else k for k in self._db.connection.scan_iter(match=pattern)]

    def auto_rewrite_setting(self) -> int:
        """The growth of the log (in % of its size after the last rewrite) that makes the engine
        rewrite it by itself (0: never)."""
        return int(self._raw("CONFIG", "GET", "auto-aof-rewrite-percentage")[1])

    def auto_rewrite(self, percentage: int) -> int:
        """Set auto_rewrite_setting(); returns the setting it replaces."""
        before = self.auto_rewrite_setting()
        self._raw("CONFIG", "SET", "auto-aof-rewrite-percentage", str(percentage))
        return before

    def drop_graph(self, key: str) -> None:
        """Delete a graph key (a bulk graph) if it exists."""
        self._raw("DEL", key)

    def index_graph(self, key: str, index_queries: list[str], wait: float = 600.0) -> None:
        """Create the store's indexes on graph `key` and wait until the engine has filled them all."""
        for text in index_queries:
            self._raw("GRAPH.QUERY", key, text)
        deadline = time.monotonic() + wait
        while True:
            reply = self._raw("GRAPH.RO_QUERY", key, "CALL db.indexes() YIELD status RETURN status", "--compact")
            if all(row[0][1] in (b"OPERATIONAL", "OPERATIONAL") for row in reply[1]):
                return
            if time.monotonic() > deadline:
                raise GraphUnavailable(f"indexes of {key} not filled after {wait:.0f}s")
            time.sleep(0.02)

    def swap_in(self, key: str) -> bool:
        """Make graph `key` the store's graph if the store's graph has no node; one atomic step
        (WATCH: a write to the store's graph after the check makes the swap fail). False if not done."""
        import redis

        graph = self.graph_name
        with self._db.connection.pipeline() as pipe:
            try:
                pipe.watch(graph)
                if not self.is_empty():
                    return False
                pipe.multi()
                pipe.delete(graph)
                pipe.rename(key, graph)
                pipe.execute()
                return True
            except redis.WatchError:
                return False

    def compact(self) -> None:
        """Rewrite the append-only log with a snapshot preamble so a restart loads in seconds.

        A rewrite already running (the server starts one as its log grows) began before the latest
        writes, which it leaves in the log for a restart to replay: wait for it, then start one that
        covers them.
        """
        import redis

        conn = self._db.connection
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                conn.bgrewriteaof()
            except redis.exceptions.ResponseError as e:
                if "already in progress" not in str(e):
                    raise
                self._wait_for_rewrite(conn, deadline)
                continue
            self._wait_for_rewrite(conn, deadline)
            return

    @staticmethod
    def _wait_for_rewrite(conn: Any, deadline: float) -> None:
        """Until no rewrite runs or waits to run, or the deadline (the log is whole either way: a
        restart only replays more of it)."""
        while time.monotonic() < deadline:
            info = conn.info("persistence")
            if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
                return
            time.sleep(0.05)

    def close(self) -> None:
        try:
            for conn in list(self._connections):
                conn.disconnect()
            for pool in list(self._apools.values()):
                pool.close()
            self._db.connection.close()
        finally:
            self.server.stop()


class Neo4jEngine:
    """Neo4j 5 through the official driver; reads routed as READ, every query named and bounded."""

    name = "neo4j"

    def __init__(self, uri: str, user: str, password: str, database: str):
        import neo4j

        self._neo4j = neo4j
        self.database = database
        try:
            self._driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
            self._driver.verify_connectivity()
        except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.AuthError, ValueError) as e:
            raise GraphUnavailable(f"Neo4j at {uri} not reachable: {e}") from e

    def prepare(self, query: NamedQuery, params: dict[str, Any]) -> Prepared:
        """The driver sends parameters apart from the query text: nothing to do ahead."""
        return Prepared(query, params)

    def run_prepared(self, prepared: Prepared, timeout: float) -> list[dict[str, Any]]:
        return self.run(prepared.query, prepared.payload, timeout)

    def run(self, query: NamedQuery, params: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
        neo4j = self._neo4j
        # The one cast of file text to LiteralString: query text never comes from input (STYLE.md).
        text = cast(LiteralString, query.text)

        # In managed transactions the name and bound travel through unit_of_work (driver docs).
        @neo4j.unit_of_work(metadata={"query": query.name}, timeout=timeout)
        def work(tx: Any) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(text, params)]

        try:
            with self._driver.session(database=self.database) as session:
                if query.write:
                    return session.execute_write(work)
                return session.execute_read(work)
        except neo4j.exceptions.ServiceUnavailable as e:
            raise GraphUnavailable(f"Neo4j not reachable: {e}") from e
        except neo4j.exceptions.Neo4jError as e:
            raise PokinError(f"query {query.name!r} failed: {e.message}") from e

    def compact(self) -> None:
        """Neo4j manages its own storage."""

    def close(self) -> None:
        self._driver.close()


def open_store(settings: Settings, queries: Mapping[str, NamedQuery] | None = None) -> GraphStore:
    """Open the store the settings name: Neo4j when NEO4J_URI is set, else the embedded engine.

    Raises:
        GraphUnavailable: the engine cannot be started or reached.
    """
    queries = queries if queries is not None else load_queries()
    engine: Engine
    if settings.neo4j_uri:
        engine = Neo4jEngine(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password, settings.neo4j_database)
    else:
        engine = EmbeddedEngine(settings.pokin_data_dir, settings.pokin_graph, settings.pokin_query_timeout,
                                settings.pokin_engine_threads)
    store = GraphStore(engine, queries, settings.pokin_query_timeout)
    try:
        store.ensure_schema()
    except BaseException:
        engine.close()  # a server this process started is not left running without a store to stop it
        raise
    if isinstance(engine, EmbeddedEngine):
        from service.bulk import drop_stale

        drop_stale(store)  # a first load whose process died before its swap: never seen, dropped
    return store
