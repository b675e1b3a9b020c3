"""A small HTTP load generator: N concurrent keep-alive connections, each sending its next GET as soon
as the previous answer is read (a closed loop, like N users clicking), in its own process.

Run by bench.run in a subprocess, so the clients neither share the interpreter lock with each other nor
with the benchmark process: 16 httpx threads in the benchmark process measured their own waits for the
lock as latency. asyncio streams with hand-written HTTP/1.1 cost the client some tens of microseconds per
request.

    python -m bench.loadgen HOST PORT CLIENTS MAX_REQUESTS MAX_SECONDS < requests.json > latencies.json

stdin: a JSON list of [kind, path]; stdout: {"latency": {kind: [seconds, ...]}, "wall": s, "errors": n}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, path: str) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    if length is not None:
        await reader.readexactly(length)
    elif chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        raise RuntimeError(f"{path}: a reply with neither Content-Length nor chunked encoding")
    return status


async def run(host: str, port: int, reqs: list[tuple[str, str]], clients: int, max_requests: int,
              max_seconds: float) -> dict[str, object]:
    latency: dict[str, list[float]] = {}
    errors = 0
    todo = iter([reqs[i % len(reqs)] for i in range(max_requests)])
    stop_at = time.monotonic() + max_seconds

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for kind, path in todo:
                if time.monotonic() > stop_at:
                    return
                t = time.perf_counter()
                status = await _get(reader, writer, host, path)
                dt = time.perf_counter() - t
                if status == 200:
                    latency.setdefault(kind, []).append(dt)
                else:
                    errors += 1
        finally:
            writer.close()

    wall = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return {"latency": latency, "wall": time.perf_counter() - wall, "errors": errors}


def main(argv: list[str]) -> None:
    host, port, clients, max_requests, max_seconds = argv[0], int(argv[1]), int(argv[2]), int(argv[3]), float(argv[4])
    reqs = [(k, p) for k, p in json.load(sys.stdin)]
    coro = run(host, port, reqs, clients, max_requests, max_seconds)
    try:
        import uvloop  # what the server runs on too (pyproject)
    except ImportError:
        result = asyncio.run(coro)
    else:
        result = uvloop.run(coro)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
