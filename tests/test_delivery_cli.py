"""`cio-sandbox run --delivery segment`: the `delivery` block, --records per attempt, --fail-on-drop,
--rate backfill planning, the config's [faults], and --target; the mock's fault profile through
the admin API, intercept(faults=...) and CIO_FAULTS, deterministic with a seed."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_cio import create_app
from mock_cio.faults import FaultProfile
from mock_cio.intercept import intercept
from sandbox.cli import main
from tests.test_delivery_loop import at, identify, track

OUTAGE_30_MIN = """
[faults]
[[faults.outages]]
status = 503
start = 2024-01-01T00:10:00Z
end = "2024-01-01T00:40:00Z"
"""


def write(tmp_path: Path, events: list[dict[str, Any]], config: str | None = None) -> list[str]:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    args = [str(path)]
    if config is not None:
        (tmp_path / "cio-sandbox.toml").write_text(config, encoding="utf-8")
        args += ["--config", str(tmp_path / "cio-sandbox.toml")]
    return args


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status = main(["run", *argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_delivery_block_after_a_30_minute_outage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = write(tmp_path, [track(n, 600 + 120 * n) for n in range(5)], OUTAGE_30_MIN)
    status, summary = run_json(capsys, *args, "--delivery", "segment", "--fail-on-drop")
    assert status == 0
    delivery = summary["delivery"]
    assert delivery["delivered"] == 5 and delivery["dropped"] == 0 and delivery["retried"] == 5
    assert delivery["delivered_late"]["count"] == 5 and delivery["delivered_late"]["max_delay_seconds"] > 1000
    assert delivery["attempts"] == summary["requests"]["sent"] > 5


def test_once_is_the_default_and_has_no_delivery_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = write(tmp_path, [track(1, 600)], OUTAGE_30_MIN)
    status, summary = run_json(capsys, *args)
    assert "delivery" not in summary and summary["requests"]["rejected"] == 1
    assert main(["run", *args, "--fail-on-drop"]) == 1  # once: a 503 is the end of it
    capsys.readouterr()


def test_fail_on_drop_and_the_reasons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = OUTAGE_30_MIN.replace("00:40:00Z", "05:40:00Z")
    args = write(tmp_path, [track(1, 600), track(2, 700)], config)
    status, summary = run_json(capsys, *args, "--delivery", "segment", "--fail-on-drop")
    assert status == 1
    assert summary["delivery"]["dropped_by_reason"] == {"retry window exhausted": 2}
    assert main(["run", *args, "--delivery", "segment"]) == 0  # without the flag it only reports
    text = capsys.readouterr().out
    assert "2× dropped: retry window exhausted" in text


def test_records_show_each_attempt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = write(tmp_path, [track(1, 600)], OUTAGE_30_MIN)
    records = tmp_path / "records.jsonl"
    main(["run", *args, "--delivery", "segment", "--records", str(records)])
    capsys.readouterr()
    (line,) = records.read_text().splitlines()
    deliveries = [d for s in json.loads(line)["subscriptions"] for d in s["deliveries"]]
    attempts = [d["attempt"] for d in deliveries]
    assert [a["number"] for a in attempts] == list(range(1, len(attempts) + 1))
    assert attempts[-1]["decision"] == "deliver" and all(a["decision"] == "retry" for a in attempts[:-1])
    assert all(d["response"]["status"] == 503 for d in deliveries[:-1])


def test_same_seed_same_report_and_seeds_differ(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = "[faults]\nerror_rate = 0.5\n"
    args = write(tmp_path, [track(n, 60 * n) for n in range(20)], config)
    reports = []
    for seed in ("1", "1", "2"):
        _, summary = run_json(capsys, *args, "--delivery", "segment", "--seed", seed)
        reports.append(summary["delivery"])
    assert reports[0] == reports[1] and reports[0] != reports[2]


def test_backfill_planning_at_a_rate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = [identify(n, 0) for n in range(10)] + [track(n, 1) for n in range(10)]
    args = write(tmp_path, events)
    status, summary = run_json(capsys, *args, "--delivery", "segment", "--rate", "2")
    backfill = summary["delivery"]["backfill"]
    assert backfill["rate"] == 2 and backfill["seconds"] == pytest.approx(19 / 2)
    assert backfill["other_mode"]["mode"] == "batch" and backfill["other_mode"]["requests"] < 20
    assert main(["run", *args, "--rate", "2"]) == 2  # --rate needs --delivery segment
    assert "--rate: needs --delivery segment" in capsys.readouterr().err


def test_a_slow_backfill_pushes_anonymous_events_past_the_merge_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = [identify(1, 0, anonymousId="a1")] + [track(n, 1) for n in range(2, 12)]
    events.append(
        {"type": "track", "anonymousId": "a1", "event": "Late", "messageId": "x", "timestamp": at(2)}
    )
    args = write(tmp_path, events)
    _, fast = run_json(capsys, *args, "--delivery", "segment", "--rate", "1000")
    _, slow = run_json(capsys, *args, "--delivery", "segment", "--rate", "0.02")  # one every 50 s
    assert fast["delivery"]["missed_windows"]["anonymous_merge"] == 0
    assert slow["delivery"]["missed_windows"]["anonymous_merge"] == 1
    assert slow["mock"]["end"]["anonymous_events"] == 1


def test_bad_faults_in_the_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = write(tmp_path, [track(1, 0)], "[faults]\nerror_rate = 3\n")
    assert main(["run", *args]) == 2
    assert "faults/error_rate: must be a share between 0 and 1" in capsys.readouterr().err


def test_target_gets_the_profile_and_the_clock_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from werkzeug.serving import make_server

    app = create_app({"CIO_NOW": at(0)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        args = write(tmp_path, [track(1, 0)], OUTAGE_30_MIN.replace("00:10:00Z", "00:00:00Z"))
        status, summary = run_json(capsys, *args, "--delivery", "segment", "--target", url)
    finally:
        server.shutdown()
        thread.join()
    assert status == 0 and summary["delivery"]["delivered"] == 1 and summary["delivery"]["retried"] == 1
    mock = app.extensions["mock_cio"]
    assert mock.fault_profile()["profile"]["outages"][0]["status"] == 503
    assert mock.clock.now() >= mock.fault_profile()["profile"]["outages"][0]["end"]
    assert len(mock.person("u1")["events"]) == 1


# -- the mock's profile: one shape everywhere ---------------------------------------------------------


PROFILE = {
    "seed": 5,
    "error_rate": 0.3,
    "rate_limit": 3,
    "latency": {"distribution": "lognormal", "median": 0.1, "sigma": 1},
}


def _statuses(mock: Any, n: int = 40) -> list[tuple[int, str | None, str | None]]:
    out = []
    for i in range(n):
        mock.clock.move(1_704_067_200 + i // 5)  # five requests per mock second: over the limit of 3
        got = mock.serve("PUT", "track.customer.io", "/api/v1/customers/u1", "",
                         {"Authorization": "Basic c2l0ZTprZXk=", "Content-Type": "application/json"}, b"{}")  # fmt: skip
        out.append((got.status, got.headers.get("Retry-After"), got.headers.get("X-Mock-Latency")))
    return out


def test_the_profile_is_seeded_and_rate_limits_in_mock_time() -> None:
    first = _statuses(create_app({"CIO_FAULTS": PROFILE}).extensions["mock_cio"])
    again = _statuses(create_app({"CIO_FAULTS": PROFILE}).extensions["mock_cio"])
    assert first == again
    assert {s for s, _, _ in first} <= {200, 429, 500, 502, 503, 504}
    assert any(s == 429 and retry == "1" for s, retry, _ in first)
    assert all(latency is not None for s, _, latency in first if s == 200)
    per_second: dict[int, int] = {}
    for i, (s, _, _) in enumerate(first):
        if s != 429:
            per_second[i // 5] = per_second.get(i // 5, 0) + 1
    assert max(per_second.values()) <= 3


def test_admin_api_and_intercept_take_the_same_shape() -> None:
    app = create_app()
    client = app.test_client()
    assert client.get("/_mock/faults/profile").get_json() == {"profile": None}
    put = client.put("/_mock/faults/profile", json=PROFILE)
    assert put.status_code == 200
    assert put.get_json()["profile"] == FaultProfile.from_dict(PROFILE).to_dict()
    bad = client.put("/_mock/faults/profile", json={"outages": [{"status": 503, "start": 10}]})
    assert bad.status_code == 400 and bad.get_json() == {"error": "faults.outages[0]: missing end"}
    assert client.delete("/_mock/faults/profile").get_json() == {"profile": None}
    with intercept(faults={"outages": [{"status": 503, "start": 0, "end": 4e9}]}) as cio:
        answer = requests.put(
            "https://track.customer.io/api/v1/customers/u1", json={}, auth=("s", "k"), timeout=5
        )
        assert answer.status_code == 503
        assert cio.mock.fault_profile()["profile"]["outages"][0]["end"] == 4e9
    with pytest.raises(Exception, match="error_rate must be >= 0"):
        intercept(faults={"error_rate": -1})


def test_the_queued_faults_still_come_first() -> None:
    mock = create_app({"CIO_FAULTS": {"outages": [{"status": 503, "start": 0, "end": 4e9}]}}).extensions[
        "mock_cio"
    ]
    mock.inject_fault(status=418, count=1)
    got = [_statuses(mock, 1)[0][0], _statuses(mock, 1)[0][0]]
    assert got == [418, 503]


# -- the live server and its inspector ---------------------------------------------------------------


def test_serve_delivery_segment_shows_each_attempt_on_the_events_trace() -> None:
    import re

    from sandbox.live import create_live_app

    app = create_live_app({
        "CIO_DB": ":memory:", "CIO_NOW": "2024-03-05T12:00:00Z", "SANDBOX_DELIVERY": "segment",
        "CIO_FAULTS": {"outages": [{"status": 503, "start": "2024-03-05T12:00:00Z", "end": "2024-03-05T12:00:30Z"}]},
    })  # fmt: skip
    client = app.test_client()
    sent = client.post(
        "/v1/track", json={"userId": "u1", "event": "Paid", "messageId": "m1"},
        headers={"Authorization": "Basic d2tfdGVzdDo="},
    )  # fmt: skip
    assert sent.status_code == 200
    (trace_id,) = {
        int(x) for x in re.findall(r'href="/events/(\d+)"', client.get("/").get_data(as_text=True))
    }
    page = client.get(f"/events/{trace_id}").get_data(as_text=True)
    assert "Attempt 1, sent 2024-03-05 12:00:00Z" in page and "Segment saw 503 and retries at" in page
    assert re.search(
        r"Attempt \d+, sent 2024-03-05 12:00:[3-5]\dZ:\s+Segment saw 200 and counts it delivered", page
    )
    mock = app.extensions["sandbox_live"].mock_app.extensions["mock_cio"]
    assert mock.clock.now() >= 1709640030  # the frozen clock moved on with the retries
    assert len(mock.person("u1")["events"]) == 1


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (
            {"error_statuses": [200]},
            "faults.error_statuses[0] must be an HTTP error status between 400 and 599",
        ),
        (
            {"latency": {"distribution": "lognormal", "median": 1, "sigma": 99}},
            "faults.latency.sigma must be at most 10",
        ),
        ({"latency": 1e9}, "faults.latency must be at most 86400"),
        ({"outages": [{"status": 503, "start": 10, "end": 5}]}, "faults.outages[0]: end must be after start"),
        (
            {"outages": [{"status": 503, "start": "soon", "end": 5}]},
            "faults.outages[0].start 'soon' is neither",
        ),
        ({"rate_limit": 0}, "faults.rate_limit must be > 0"),
        ({"seed": "x"}, "faults.seed must be an integer"),
    ],
)
def test_bad_profiles_are_refused_with_the_key(profile: dict[str, Any], message: str) -> None:
    response = create_app().test_client().put("/_mock/faults/profile", json=profile)
    assert response.status_code == 400 and response.get_json()["error"].startswith(message)


def test_extreme_profile_values_never_make_the_mock_fail() -> None:
    mock = create_app({"CIO_FAULTS": {"latency": {"distribution": "lognormal", "median": 86400, "sigma": 10},
                                      "outages": [{"status": 503, "start": 1e15, "end": 1e16}]}}).extensions["mock_cio"]  # fmt: skip

    def one() -> Any:
        return mock.serve("PUT", "track.customer.io", "/api/v1/customers/u1", "",
                          {"Authorization": "Basic c2l0ZTprZXk=", "Content-Type": "application/json"}, b"{}")  # fmt: skip

    mock.clock.move(1e15 + 1)
    assert one().status == 503  # the outage's note names times past year 9999 without failing
    mock.clock.move(1e9)
    answer = one()
    assert answer.status == 200 and float(answer.headers["X-Mock-Latency"]) <= 86400


def test_the_readme_outage_example(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's run of fixtures/delivery/outage.toml, figure for figure."""
    root = Path(__file__).resolve().parent.parent
    status, summary = run_json(
        capsys, str(root / "fixtures" / "scenarios"), "--config", str(root / "fixtures" / "delivery" / "outage.toml"),
        "--delivery", "segment",
    )  # fmt: skip
    delivery = summary["delivery"]
    assert status == 0
    assert (delivery["attempts"], delivery["delivered"], delivery["retried"], delivery["dropped"]) == (
        94,
        38,
        11,
        0,
    )
    assert delivery["delivered_late"] == {"count": 11, "max_delay_seconds": pytest.approx(2526, abs=60)}
    assert delivery["missed_windows"] == {"anonymous_merge": 2, "trigger_72h": 0}
    assert summary["mock"]["anonymous_events_merged"] == 1


@settings(max_examples=60)
@given(
    rate=st.integers(1, 20),
    gaps=st.lists(st.sampled_from([0.0, 0.01, 0.1, 0.3, 0.999, 1.0, 1.5]), min_size=1, max_size=80),
)
def test_the_profile_rate_limit_never_lets_more_than_the_rate_through_in_any_second(
    rate: int, gaps: list[float]
) -> None:
    mock = create_app({"CIO_FAULTS": {"rate_limit": rate}}).extensions["mock_cio"]
    now = 1_704_067_200.0
    allowed: list[float] = []
    for gap in gaps:
        now += gap
        mock.clock.move(now)
        got = mock.serve("PUT", "track.customer.io", "/api/v1/customers/u1", "",
                         {"Authorization": "Basic c2l0ZTprZXk=", "Content-Type": "application/json"}, b"{}")  # fmt: skip
        if got.status == 200:
            allowed.append(now)
        else:
            assert got.status == 429 and int(got.headers["Retry-After"]) >= 1
            assert sum(1 for t in allowed if t > now - 1.0) >= rate  # refused only when the window is full
    for t in allowed:
        assert sum(1 for u in allowed if t - 1.0 < u <= t) <= rate
