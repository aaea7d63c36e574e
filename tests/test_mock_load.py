"""The live server under load (`python -m mock_cio` in a subprocess, plain http, keep-alive sessions).

* 8 threads x 500 requests: the journal holds exactly 4,000 entries, one per answer (the answers'
  `X-Mock-Request-Id`s are exactly the journal's ids) and the state equals a model. Each thread
  owns its people, so their final state is deterministic; every thread also tracks events on one
  shared person, whose events must be exactly the union of the threads' events.
* SIGKILL under load: every request that got a 2xx before the kill is in the journal after a
  restart on the same `--db`, with its body, and the restarted state equals the model built from
  the journal (at most one unacknowledged request per thread may also have landed).
"""

from __future__ import annotations

import signal
import threading
from collections import Counter
from typing import Any

import requests
from live_support import launch, start_server

from mock_cio.remote import RemoteMock

THREADS = 8
PER_THREAD = 500
PEOPLE_PER_THREAD = 7
AUTH = ("load-site", "load-key")


def plan(thread: int, i: int) -> tuple[str, str, dict[str, Any]]:
    """Request `i` of `thread`: identify or track on the thread's people, every 10th on `shared`."""
    if i % 10 == 9:
        return "POST", "/api/v1/customers/shared/events", {"name": f"t{thread}-e{i}", "id": f"t{thread}-{i}"}
    uid = f"t{thread}-p{i % PEOPLE_PER_THREAD}"
    if i % 2 == 0:
        return "PUT", f"/api/v1/customers/{uid}", {"n": i, "thread": thread}
    return "POST", f"/api/v1/customers/{uid}/events", {"name": f"e{i}", "data": {"i": i}}


def model(sent: dict[int, list[int]]) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """People (id -> attributes, event names) after each thread's requests `sent[thread]`, in order."""
    people: dict[str, tuple[dict[str, Any], list[str]]] = {}
    shared: list[str] = []
    for thread, numbers in sent.items():
        for i in numbers:
            method, path, body = plan(thread, i)
            if path.endswith("/shared/events"):
                shared.append(body["name"])
                continue
            uid = path.split("/")[4]
            attributes, events = people.setdefault(uid, ({}, []))
            if method == "PUT":
                attributes.update(body)
            else:
                events.append(body["name"])
    if shared:
        people["shared"] = ({}, sorted(shared))
    return people


def observed(mock: RemoteMock) -> dict[str, tuple[dict[str, Any], list[str]]]:
    out = {}
    for person in mock.people():
        names = [e["name"] for e in person["events"]]
        uid = person["identifiers"]["id"]
        out[uid] = (person["attributes"], sorted(names) if uid == "shared" else names)
    return out


def all_entries(mock: RemoteMock) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    before = None
    while True:
        page = mock.requests(limit=10_000, before_id=before)
        out.extend(page)
        if len(page) < 10_000:
            return out
        before = page[-1]["id"]


def test_8_threads_x_500_requests(tmp_path):
    with start_server(tmp_path) as server:
        ids: list[int] = []
        failures: list[str] = []
        lock = threading.Lock()
        start = threading.Barrier(THREADS)

        def worker(thread: int) -> None:
            session = requests.Session()
            session.auth = AUTH
            start.wait()
            mine = []
            for i in range(PER_THREAD):
                method, path, body = plan(thread, i)
                response = session.request(method, server.url + path, json=body, timeout=30)
                if response.status_code != 200:
                    failures.append(f"t{thread} #{i}: {response.status_code} {response.text}")
                mine.append(int(response.headers["X-Mock-Request-Id"]))
            session.close()
            with lock:
                ids.extend(mine)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        assert failures == []
        mock = RemoteMock(server.url)
        assert mock.journal_count() == THREADS * PER_THREAD == 4000
        entries = all_entries(mock)
        assert len(entries) == 4000
        assert sorted(ids) == sorted(e["id"] for e in entries)  # one entry per answer, no duplicates
        assert Counter(e["outcome"] for e in entries) == {"accepted": 4000}
        expected = model({t: list(range(PER_THREAD)) for t in range(THREADS)})
        assert observed(mock) == expected
        assert len(expected) == THREADS * PEOPLE_PER_THREAD + 1
        # Each thread's requests are journaled in the order it sent them.
        for thread in range(THREADS):
            mine = [e for e in reversed(entries) if e["path"].startswith(f"/api/v1/customers/t{thread}-")]
            assert [e["body"].get("n", e["body"].get("data", {}).get("i")) for e in mine] == [
                i for i in range(PER_THREAD) if i % 10 != 9
            ]


def test_sigkill_under_load_loses_no_acknowledged_request(tmp_path):
    db = tmp_path / "durable.db"
    server = launch(tmp_path, db=db)
    acked: dict[int, list[tuple[int, int]]] = {t: [] for t in range(4)}  # thread -> [(i, entry id)]
    stop = threading.Event()
    enough = threading.Event()

    def worker(thread: int) -> None:
        session = requests.Session()
        session.auth = AUTH
        i = 0
        while not stop.is_set():
            method, path, body = plan(thread, i)
            try:
                response = session.request(method, server.url + path, json=body, timeout=10)
            except requests.RequestException:
                return  # the server is gone
            if 200 <= response.status_code < 300:
                acked[thread].append((i, int(response.headers["X-Mock-Request-Id"])))
            if sum(len(v) for v in acked.values()) >= 600:
                enough.set()
            i += 1
        session.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    try:
        for t in threads:
            t.start()
        assert enough.wait(60), "the server did not acknowledge 600 requests in 60 s"
        server.process.send_signal(signal.SIGKILL)  # mid-flight: the workers are still sending
        assert server.process.wait(timeout=10) == -signal.SIGKILL
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=15)
        server.process.kill()
        server.process.wait(timeout=10)
        for stream in (server.process.stdout, server.process.stderr):
            if stream is not None:
                stream.close()

    with start_server(tmp_path, db=db) as restarted:
        mock = RemoteMock(restarted.url)
        entries = {e["id"]: e for e in all_entries(mock)}
        landed: dict[int, list[int]] = {t: [] for t in acked}
        for entry in sorted(entries.values(), key=lambda e: e["id"]):
            assert entry["outcome"] == "accepted", entry
            body = entry["body"]
            if entry["path"].endswith("/shared/events"):
                thread, i = (int(x) for x in body["id"][1:].split("-"))
            elif entry["method"] == "PUT":
                thread, i = body["thread"], body["n"]
            else:
                thread, i = int(entry["path"].split("/")[4][1:].split("-")[0]), body["data"]["i"]
            landed[thread].append(i)
            assert plan(thread, i) == (entry["method"], entry["path"], body)

        for thread, pairs in acked.items():
            for i, entry_id in pairs:  # every acknowledged request, under its own id
                assert entry_id in entries, f"acknowledged request t{thread} #{i} (entry {entry_id}) was lost"
                assert plan(thread, i) == (entries[entry_id]["method"], entries[entry_id]["path"],
                                           entries[entry_id]["body"])  # fmt: skip
            # What landed is what the thread sent, in order: the acknowledged ones plus at most
            # the one in flight at the kill.
            sent = landed[thread]
            assert sent == list(range(len(sent)))
            assert len(pairs) <= len(sent) <= len(pairs) + 1
        assert observed(mock) == model(landed)
        print(f"killed after {sum(map(len, acked.values()))} acknowledged requests; {len(entries)} journaled")
