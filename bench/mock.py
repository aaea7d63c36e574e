"""Benchmark of the mock Customer.io: in-process and over HTTP, reset cost, start-up time.

    python bench/mock.py                 # all figures
    python bench/mock.py --requests 5000 # more requests per measurement

Prints: requests/second in-process (`intercept()` + `requests`), round-trip median and p99
in-process; requests/second over HTTP against `python -m mock_cio` in a subprocess with one
keep-alive session and with N threads (one session each); the cost of a reset (after 1,000
requests, so there is something to forget); start-up time (`import mock_cio` + `create_app()` in a
fresh interpreter). Targets on a 2-core machine: in-process round trip < 1 ms median; reset < 5 ms;
import + create < 300 ms.

The workload is an identify/track mix over 50 people in one workspace, journal in memory.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402

import mock_cio  # noqa: E402

US = "https://track.customer.io"
AUTH = ("bench-site", "bench-key")


def call(session: requests.Session, base: str, i: int) -> requests.Response:
    uid = f"u{i % 50}"
    if i % 2:
        return session.post(
            f"{base}/api/v1/customers/{uid}/events", json={"name": "viewed", "data": {"i": i}}
        )
    return session.put(
        f"{base}/api/v1/customers/{uid}", json={"plan": "pro", "n": i, "email": f"{uid}@example.com"}
    )


def timed(fn: Callable[[int], object], count: int) -> list[float]:
    out = []
    for i in range(count):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def in_process(count: int) -> dict[str, float]:
    with mock_cio.intercept(CIO_NOW=1_700_000_000) as cio:
        session = requests.Session()
        session.auth = AUTH
        timed(lambda i: call(session, US, i), 200)  # warm-up
        cio.reset()
        times = timed(lambda i: call(session, US, i), count)
        assert len(cio.requests(limit=count + 1)) == count
        bare = cio.app.test_client()
        headers = {"Authorization": requests.auth._basic_auth_str(*AUTH), "Content-Type": "application/json"}
        wsgi = timed(lambda i: bare.put(f"/api/v1/customers/u{i % 50}", data=b'{"plan":"pro"}', headers=headers,
                                        base_url=US), count)  # fmt: skip
        cio.reset()
        for i in range(1000):
            call(session, US, i)
        resets: list[float] = []
        for _ in range(20):
            for i in range(1000 if not resets else 50):
                call(session, US, i)
            start = time.perf_counter()
            cio.reset()
            resets.append(time.perf_counter() - start)
    return {
        "rps": count / sum(times),
        "median_ms": statistics.median(times) * 1000,
        "p99_ms": percentile(times, 99) * 1000,
        "app_only_median_ms": statistics.median(wsgi) * 1000,
        "reset_first_ms": resets[0] * 1000,
        "reset_median_ms": statistics.median(resets) * 1000,
    }


def over_http(count: int, threads: int) -> dict[str, float]:
    from live_support import start_server

    with tempfile.TemporaryDirectory() as folder, start_server(Path(folder)) as server:
        session = requests.Session()
        session.auth = AUTH
        timed(lambda i: call(session, server.url, i), 200)
        times = timed(lambda i: call(session, server.url, i), count)
        single = count / sum(times)
        median = statistics.median(times) * 1000

        per_thread = count // threads
        barrier = threading.Barrier(threads + 1)

        def worker(t: int) -> None:
            s = requests.Session()
            s.auth = AUTH
            call(s, server.url, t)
            barrier.wait()
            for i in range(per_thread):
                call(s, server.url, i + t)
            s.close()

        workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        barrier.wait()
        start = time.perf_counter()
        for w in workers:
            w.join()
        threaded = per_thread * threads / (time.perf_counter() - start)
    return {"rps_keepalive": single, "median_ms": median, "rps_threads": threaded}


def startup(runs: int) -> dict[str, float]:
    code = (
        "import time; t = time.perf_counter(); import mock_cio; app = mock_cio.create_app(); "
        "print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout))
    return {"median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement (default 2000)")
    parser.add_argument("--threads", type=int, default=8, help="client threads over HTTP (default 8)")
    parser.add_argument("--startup-runs", type=int, default=5)
    args = parser.parse_args()

    def verdict(value: float, target: float) -> str:
        return f"(target < {target:g}: {'ok' if value < target else 'MISSED'})"

    local = in_process(args.requests)
    print(f"in-process (intercept + requests): {local['rps']:,.0f} req/s; round trip median "
          f"{local['median_ms']:.3f} ms {verdict(local['median_ms'], 1)}, p99 {local['p99_ms']:.3f} ms")  # fmt: skip
    print(f"  of which the app alone (Flask test client): median {local['app_only_median_ms']:.3f} ms")
    print(f"reset after 1,000 requests: {local['reset_first_ms']:.2f} ms {verdict(local['reset_first_ms'], 5)}; "
          f"after 50: median {local['reset_median_ms']:.2f} ms")  # fmt: skip
    remote = over_http(args.requests, args.threads)
    print(f"over HTTP (python -m mock_cio, http, journal in a file): keep-alive session "
          f"{remote['rps_keepalive']:,.0f} req/s (median {remote['median_ms']:.2f} ms); "
          f"{args.threads} threads {remote['rps_threads']:,.0f} req/s")  # fmt: skip
    boot = startup(args.startup_runs)
    print(f"start-up (import mock_cio + create_app, fresh interpreter): median {boot['median_ms']:.0f} ms "
          f"{verdict(boot['median_ms'], 300)}, max {boot['max_ms']:.0f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
