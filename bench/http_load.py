"""The live server's throughput and latency, beside the in-process `MockCio.serve` rate.

    python bench/http_load.py [--seconds 4] [--clients 1,8] [--server-threads 16] [--generator auto|wrk|raw]

It starts `python -m mock_cio` in its own process on a free port with a DURABLE journal file (every
acknowledged request survives SIGKILL: the mock commits before it answers), plain and then `--tls`,
and drives it with 1 and 8 keep-alive clients sending prebuilt Track API identify requests (`PUT
/api/v1/customers/<id>`, 100 different people) back to back.

The load generator must not be the bottleneck. By default it is `wrk` (Debian's package, C and
epoll; a Lua script sends the same prebuilt requests and fails the run on an answer other than 200
or on `Connection: close`) when it is installed; otherwise (or with `--generator raw`) each client
is a thread of this process holding ONE raw socket (TLS with Python's `ssl`) that reads each answer
by its Content-Length, no HTTP library. Either way the benchmark proves the generator's headroom by
running the same load against a trivial keep-alive responder (asyncio, a fixed answer) and printing
that ceiling, and prints the generator's own CPU use.

The machine is shared, so wall-clock rates are noisy: each row also prints the server process's
CPU (user + system, from /proc) as a share of one core and in microseconds per request, and the
load average at the start and the end.

Printed per row: requests/s, p50 and p99 latency (ms), server CPU, server CPU microseconds per
request, generator CPU; then the official Python client (`customerio.CustomerIO.identify`, one
pooled session) over TLS, and the in-process rate (`MockCio.serve` on the same kind of durable
journal, no HTTP at all, with its CPU per request) as the peer the HTTP figures are a ratio of.
The targets (issue 7, on a 2-core machine): >= 3,000 req/s with 8 keep-alive clients over plain
HTTP, >= 1,000 req/s for one client, >= 500 req/s through the official client over TLS, p99 under
20 ms at 8 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Run as a script, this file's folder is first on sys.path, and its name would hide the standard
# library's `http` package from what is imported later (requests, customerio): drop it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ROOT = Path(__file__).resolve().parent.parent
STARTUP = re.compile(r"listening on (?P<url>https?://[^ ,]+)(?: \(TLS; trust the CA file (?P<ca>[^)]+)\))?")
AUTH = "Basic " + base64.b64encode(b"bench-site:bench-key").decode()
PEOPLE = 100


def requests_to_send(host: str) -> list[bytes]:
    """Prebuilt identify requests, one per person, each a complete HTTP/1.1 request."""
    out = []
    for i in range(PEOPLE):
        body = json.dumps({"email": f"p{i}@example.com", "plan": "pro", "logins": i}).encode()
        head = (
            f"PUT /api/v1/customers/p{i} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {AUTH}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


class BenchError(Exception):
    pass


def read_response(sock: socket.socket, buffer: bytearray) -> None:
    """Read one response (headers, then Content-Length bytes); `buffer` keeps what follows it."""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            break
        chunk = sock.recv(65536)
        if not chunk:
            raise BenchError("the server closed a keep-alive connection")
        buffer += chunk
    head = bytes(buffer[:end]).lower()
    if not head.startswith((b"http/1.1 200", b"http/1.0 200")):
        raise BenchError(f"unexpected answer: {bytes(buffer[:end])[:200]!r}")
    if b"\r\nconnection: close" in head:
        raise BenchError("the server answered Connection: close (no keep-alive)")
    match = re.search(rb"\r\ncontent-length:\s*(\d+)", head)
    if match is None:
        raise BenchError("an answer without Content-Length")
    total = end + 4 + int(match.group(1))
    while len(buffer) < total:
        chunk = sock.recv(65536)
        if not chunk:
            raise BenchError("the server closed the connection inside an answer")
        buffer += chunk
    del buffer[:total]


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    client_cpu: float
    """The load generator's CPU use, as a share of one core."""
    server_cpu_seconds: float | None = None
    """The server process's CPU seconds (user + system) over the measured seconds."""

    @property
    def server_us_per_request(self) -> float | None:
        if self.server_cpu_seconds is None or not self.requests:
            return None
        return self.server_cpu_seconds / self.requests * 1e6

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def _percentile(ordered: list[int], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] / 1e6


WRK_SCRIPT = """
local reqs = {}
for i = 0, %(people)d - 1 do
  local body = string.format('{"email":"p%%d@example.com","plan":"pro","logins":%%d}', i, i)
  reqs[i] = wrk.format("PUT", "/api/v1/customers/p" .. i,
    {["Host"] = "%(host)s", ["Authorization"] = "%(auth)s", ["Content-Type"] = "application/json"}, body)
end
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  n = id
  bad = 0
  closed = 0
end
function request()
  local r = reqs[n %% %(people)d]
  n = n + 1
  return r
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
  local c = headers["Connection"] or headers["connection"]
  if c ~= nil and string.lower(c) == "close" then closed = closed + 1 end
end
function done(summary, latency, requests)
  local bad_total, closed_total = 0, 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    closed_total = closed_total + t:get("closed")
  end
  local e = summary.errors
  io.write(string.format("BENCH %%d %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), bad_total, closed_total,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""
"""wrk's script: the same prebuilt identify requests as the raw client; it counts answers other
than 200 and `Connection: close`, and prints one `BENCH` line (requests, microseconds, p50, p99,
bad statuses, closes, socket errors, non-2xx) that `drive_wrk` reads."""


def drive(port: int, clients: int, seconds: float, ca: str | None, generator: str,
          server: subprocess.Popen[str] | None = None) -> Result:  # fmt: skip
    """`clients` keep-alive connections sending requests back to back for `seconds`, through
    `generator` ("wrk" or "raw"); the CPU of `server` (a process) is measured over the same time."""
    if generator == "wrk":
        return drive_wrk(port, clients, seconds, ca, server)
    return drive_raw(port, clients, seconds, ca, server)


def drive_wrk(
    port: int, clients: int, seconds: float, ca: str | None, server: subprocess.Popen[str] | None
) -> Result:
    """The load from wrk (C, epoll, one connection per client, at most 2 threads on 2 cores)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-wrk-"))
    script = folder / "identify.lua"
    script.write_text(WRK_SCRIPT % {"people": PEOPLE, "host": f"127.0.0.1:{port}", "auth": AUTH})
    url = f"{'https' if ca else 'http'}://127.0.0.1:{port}/"
    threads = max(1, min(2, clients))
    command = ["wrk", f"-t{threads}", f"-c{clients}", "-s", str(script), url]
    subprocess.run([*command[:3], "-d1s", *command[3:]], capture_output=True, check=False)  # warm up
    before, server_before = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_of(server)
    done = subprocess.run([*command[:3], f"-d{max(1, round(seconds))}s", *command[3:]],
                          capture_output=True, text=True, check=False)  # fmt: skip
    after, server_after = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_of(server)
    line = next((text for text in done.stdout.splitlines() if text.startswith("BENCH ")), None)
    if line is None:
        raise BenchError(f"wrk failed: {(done.stderr or done.stdout).strip()[:300]}")
    requests, micros, p50, p99, bad, closed, socket_errors, non_2xx = (int(v) for v in line.split()[1:])
    if bad or non_2xx:
        raise BenchError(f"{bad or non_2xx} answers other than 200 (wrk)")
    if closed:
        raise BenchError(f"the server answered Connection: close {closed} times (no keep-alive)")
    if socket_errors:
        raise BenchError(f"{socket_errors} socket errors (wrk)")
    elapsed = micros / 1e6
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    server_cpu = None if server is None else server_after - server_before
    return Result(requests, elapsed, p50 / 1e3, p99 / 1e3, cpu / elapsed, server_cpu)


def drive_raw(
    port: int, clients: int, seconds: float, ca: str | None, server: subprocess.Popen[str] | None
) -> Result:
    """The load from threads of this process, each holding one raw socket (no HTTP library)."""
    host = f"127.0.0.1:{port}"
    prebuilt = requests_to_send(host)
    context = ssl.create_default_context(cafile=ca) if ca else None
    latencies: list[list[int]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    start_gate = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(index: int) -> None:
        try:
            raw = socket.create_connection(("127.0.0.1", port))
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock = context.wrap_socket(raw, server_hostname="127.0.0.1") if context else raw
            buffer = bytearray()
            mine = latencies[index]
            clock = time.perf_counter_ns
            for request in prebuilt[:5]:  # warm up (TLS session, first people)
                sock.sendall(request)
                read_response(sock, buffer)
            start_gate.wait()
            i = index
            deadline = stop_at[0]
            while time.perf_counter() < deadline:
                began = clock()
                sock.sendall(prebuilt[i % PEOPLE])
                read_response(sock, buffer)
                mine.append(clock() - began)
                i += 1
            sock.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            start_gate.abort()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds + 5  # provisional, until every client is warm
    try:
        start_gate.wait(timeout=30)
    except threading.BrokenBarrierError:
        pass
    began, cpu, server_cpu = time.perf_counter(), time.process_time(), cpu_of(server)
    stop_at[0] = began + seconds
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    server_cpu = cpu_of(server) - server_cpu
    if errors:
        raise BenchError(f"a client failed: {errors[0]}")
    every = sorted(value for mine in latencies for value in mine)
    return Result(len(every), elapsed, _percentile(every, 0.5), _percentile(every, 0.99), cpu / elapsed,
                  None if server is None else server_cpu)  # fmt: skip


@contextmanager
def mock_server(
    folder: Path, tls: bool, threads: int
) -> Iterator[tuple[int, str | None, subprocess.Popen[str]]]:
    db = folder / f"bench-{'tls' if tls else 'plain'}.db"
    command = [sys.executable, "-m", "mock_cio", "--port", "0", "--db", str(db), "--tls-dir", str(folder / "tls"),
               "--threads", str(threads)] + (["--tls"] if tls else [])  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        match = STARTUP.search(line)
        if match is None:
            raise BenchError(f"the server did not start: {line!r}")
        yield int(match.group("url").rsplit(":", 1)[1]), match.group("ca"), process
    finally:
        process.terminate()
        process.wait(timeout=30)


def cpu_of(process: subprocess.Popen[str] | None) -> float:
    """The process's user+system CPU seconds so far (Linux /proc); 0 without a process."""
    if process is None:
        return 0.0
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


TRIVIAL = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n{}\n"


def trivial_server(ready: threading.Event, port_box: list[int], stop: threading.Event) -> None:
    """A keep-alive responder that answers every request with a fixed 200 (the generator's ceiling)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"Content-Length: (\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                writer.write(TRIVIAL)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port_box.append(server.sockets[0].getsockname()[1])
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        server.close()

    asyncio.run(main())


def trivial_in_process(clients: int, seconds: float, generator: str) -> Result:
    """The same load against the trivial responder, run in a child process (its own GIL)."""
    code = (
        "import sys, threading; sys.path.insert(0, %r); import http_bench as b\n"
        "ready, box, stop = threading.Event(), [], threading.Event()\n"
        "threading.Thread(target=b.trivial_server, args=(ready, box, stop), daemon=True).start()\n"
        "ready.wait(); print(box[0], flush=True); sys.stdin.readline(); stop.set()\n"
    )
    # The responder runs in its own process; this module is imported there as `http_bench`.
    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    (folder / "http_bench.py").write_text(Path(__file__).read_text())
    child = subprocess.Popen([sys.executable, "-c", code % str(folder)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        port = int(child.stdout.readline()) if child.stdout else 0
        return drive(port, clients, seconds, None, generator)
    finally:
        if child.stdin:
            child.stdin.write("\n")
            child.stdin.flush()
        child.wait(timeout=10)


def official_client(port: int, ca: str, seconds: float) -> float:
    """identify() calls/s through the official `customerio` client over TLS (one pooled session)."""
    from customerio import CustomerIO  # type: ignore[import-untyped]

    os.environ["REQUESTS_CA_BUNDLE"] = ca
    client = CustomerIO("bench-site", "bench-key", host="127.0.0.1", port=port, retries=0)
    for i in range(5):
        client.identify(id=f"o{i}", plan="pro")
    done, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        client.identify(id=f"o{done % PEOPLE}", plan="pro", logins=done)
        done += 1
    return done / (time.perf_counter() - began)


def in_process(folder: Path, seconds: float) -> tuple[float, float]:
    """`MockCio.serve` on a durable journal file: the same requests without HTTP (requests/s and
    CPU microseconds per request)."""
    sys.path.insert(0, str(ROOT))
    from mock_cio.mock import MockCio

    mock = MockCio({"CIO_DB": str(folder / "inprocess.db")})
    headers = {"Authorization": AUTH, "Content-Type": "application/json"}
    bodies = [
        json.dumps({"email": f"p{i}@example.com", "plan": "pro", "logins": i}).encode() for i in range(PEOPLE)
    ]
    done, began, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - began < seconds:
        i = done % PEOPLE
        answer = mock.serve("PUT", "track.customer.io", f"/api/v1/customers/p{i}", "", headers, bodies[i])
        if answer.status != 200:
            raise BenchError(f"in-process answer {answer.status}")
        done += 1
    rate, cpu = done / (time.perf_counter() - began), time.process_time() - cpu
    mock.close()
    return rate, cpu / done * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per measurement (default 4)")
    parser.add_argument("--clients", default="1,8", help="client counts, comma-separated (default 1,8)")
    parser.add_argument("--server-threads", type=int, default=16, help="the server's worker threads")
    parser.add_argument("--generator", choices=("auto", "wrk", "raw"), default="auto",
                        help="the load generator: wrk (when installed; the default) or raw Python sockets")  # fmt: skip
    args = parser.parse_args()
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "raw"
    elif generator == "wrk" and not shutil.which("wrk"):
        parser.error("--generator wrk: wrk is not installed (apt-get install wrk)")
    counts = [int(c) for c in args.clients.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    print(f"load generator: {generator}; machine load average {os.getloadavg()[0]:.2f} at the start")
    print(f"{'what':44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server CPU':>10} {'us/req':>7} "
          f"{'client CPU':>10}")  # fmt: skip

    def row(label: str, result: Result) -> None:
        us = result.server_us_per_request
        share = (
            "-" if result.server_cpu_seconds is None else f"{result.server_cpu_seconds / result.seconds:.0%}"
        )
        print(f"{label:44} {result.rate:9,.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f} {share:>10} "
              f"{'-' if us is None else f'{us:.0f}':>7} {result.client_cpu:10.0%}", flush=True)  # fmt: skip

    for clients in counts:
        row(
            f"ceiling: trivial responder, {clients} client(s)",
            trivial_in_process(clients, args.seconds, generator),
        )
    rates: dict[tuple[bool, int], float] = {}
    official = 0.0
    for tls in (False, True):
        with mock_server(folder, tls, args.server_threads) as (port, ca, process):
            for clients in counts:
                result = drive(port, clients, args.seconds, ca, generator, process)
                rates[(tls, clients)] = result.rate
                row(f"mock_cio {'TLS' if tls else 'plain'}, {clients} keep-alive client(s)", result)
            if tls and ca:
                official = official_client(port, ca, args.seconds)
                print(f"{'official Python client (identify), TLS':44} {official:9,.0f}", flush=True)
    serve_rate, serve_us = in_process(folder, args.seconds)
    print(f"{'in-process MockCio.serve (peer)':44} {serve_rate:9,.0f} {'':8} {'':8} {'':10} {serve_us:7.0f}")
    print()
    for (tls, clients), rate in rates.items():
        print(f"{'TLS' if tls else 'plain'} x{clients}: {rate / serve_rate:.2f} x the in-process rate")
    print(f"machine load average {os.getloadavg()[0]:.2f} at the end (2 cores)")
    print("targets: plain x8 >= 3,000 req/s; x1 >= 1,000 req/s; official client over TLS >= 500 req/s; "
          "p99 < 20 ms at 8 clients")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
