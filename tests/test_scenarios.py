"""The scenario set (fixtures/scenarios) tells the stories it promises, replayed in-process with
its own config: one person with merged anonymous events, a device added then removed, an object
with relationships, an alias merge, a deleted person gone, a suppressed person gone and blocked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.replay.config import load_config
from sandbox.replay.engine import InProcessTarget, Replayer
from sandbox.replay.events import read_located
from sandbox.replay.summary import Summary

SCENARIOS = Path(__file__).resolve().parent.parent / "fixtures" / "scenarios"


class Replayed:
    def __init__(self) -> None:
        self.config = load_config(SCENARIOS / "cio-sandbox.toml")
        self.target = InProcessTarget()
        self.summary = Summary()
        self.records = []
        for record in Replayer(self.config, self.target).run(read_located(SCENARIOS)):
            self.summary.add(record)
            self.records.append(record)
        self.summary.finish(self.target)
        self.mock = self.target.mock

    def person(self, identifier: str) -> dict[str, Any] | None:
        return self.mock.person(identifier)

    def notes_for(self, message_id: str) -> list[str]:
        record = next(r for r in self.records if r.event.get("messageId") == message_id)
        return [n for d in record.deliveries for n in d.notes]


@pytest.fixture(scope="module")
def replayed() -> Replayed:
    return Replayed()


def test_every_event_is_accepted(replayed: Replayed) -> None:
    assert replayed.config.settings.site_id == "trailhead-demo"
    assert replayed.summary.events == 38 and replayed.summary.matched == 38
    assert replayed.summary.outcomes == {"accepted": 38}
    assert not replayed.summary.failed


def test_the_config_is_the_presets(replayed: Replayed) -> None:
    """The scenario config (compact form, one JSON-pasted mapping) runs exactly the 15 presets."""
    from sandbox.actions.presets import AUTOMATIC

    assert [s.effective_mapping for s in replayed.config.subscriptions] == [p.mapping for p in AUTOMATIC]
    assert [s.partnerAction for s in replayed.config.subscriptions] == [p.partnerAction for p in AUTOMATIC]


def test_anonymous_to_known(replayed: Replayed) -> None:
    maya = replayed.person("user-1001")
    assert maya is not None and maya["identifiers"]["email"] == "maya.lopez@example.com"
    assert maya["attributes"]["created_at"] == 1709283990  # 2024-03-01T09:06:30Z converted
    merged = [e["id"] for e in maya["events"] if e["merged_from_anonymous"]]
    assert merged == ["msg-0101", "msg-0102", "msg-0103", "msg-0104"]
    assert all(e["can_trigger"] for e in maya["events"] if e["merged_from_anonymous"])
    orders = [e for e in maya["events"] if e["name"] == "Order Completed"]
    assert [o["data"]["order_id"] for o in orders] == ["ord-5001", "ord-5034"]
    assert orders[0]["data"]["estimated_delivery"] == 1709658000  # nested ISO date converted
    assert replayed.summary.merged == 4


def test_the_unclaimed_visit_expired(replayed: Replayed) -> None:
    """The second visitor never identified; by April (scenario 6) the 30 days are over."""
    assert replayed.mock.anonymous_events() == []
    assert replayed.summary.expired == 2
    assert replayed.summary.end is not None and replayed.summary.end["anonymous_events"] == 0


def test_mobile_device_added_then_removed(replayed: Replayed) -> None:
    sam = replayed.person("user-2002")
    assert sam is not None
    (device,) = sam["devices"]  # the iOS device was uninstalled, the Android one stays
    assert device["token"].startswith("fcm-") and device["platform"] == "android"
    kinds = [
        c["kind"]
        for r in replayed.records
        if r.where and "02-mobile" in r.where
        for d in r.deliveries
        for c in d.changes
        if c["kind"].startswith("device")
    ]
    assert kinds == ["device_added", "device_updated", "device_added", "device_updated", "device_deleted"]
    assert [e["type"] for e in sam["events"]] == ["screen"]


def test_b2b_object_with_relationships(replayed: Replayed) -> None:
    (acme,) = replayed.mock.objects()  # globex was deleted
    assert (acme["object_type_id"], acme["object_id"]) == ("1", "acme-corp")
    assert acme["attributes"]["name"] == "Acme Corp" and acme["attributes"]["plan"] == "enterprise"
    assert acme["attributes"]["created_at"] == 1559347200
    (relationship,) = acme["relationships"]  # Tom's was deleted
    assert relationship["identifiers"]["id"] == "user-3001"
    assert relationship["relationship_attributes"]["role"] == "admin"
    priya = replayed.person("user-3001")
    assert priya is not None and [r["object_id"] for r in priya["relationships"]] == ["acme-corp"]
    tom = replayed.person("user-3002")
    assert tom is not None and tom["relationships"] == []


def test_alias_merge(replayed: Replayed) -> None:
    assert replayed.person("legacy-4004") is None
    jordan = replayed.person("user-4004")
    assert jordan is not None
    assert jordan["attributes"]["plan"] == "pro"  # the primary keeps its own value
    assert jordan["attributes"]["name"] == "Jordan Lee"  # and gains the secondary's others
    assert [e["data"]["order_id"] for e in jordan["events"]] == ["ord-4100"]


def test_gdpr_delete(replayed: Replayed) -> None:
    assert replayed.person("user-5005") is None
    assert replayed.person("erin.walsh@example.com") is None


def test_suppressed_person_gone_and_blocked(replayed: Replayed) -> None:
    assert replayed.person("user-6006") is None
    assert replayed.notes_for("msg-0603") == ["id 'user-6006' is suppressed: ignored"]
    assert replayed.notes_for("msg-0604") == ["id 'user-6006' is suppressed: ignored"]
    (workspace,) = replayed.mock.workspaces()
    assert sorted(workspace["suppressed"]) == ["email:alex.kim@example.com", "id:user-6006"]


def test_unsuppressed_person_comes_back(replayed: Replayed) -> None:
    rio = replayed.person("user-6007")
    assert rio is not None and rio["attributes"]["plan"] == "free"


def test_the_end_state(replayed: Replayed) -> None:
    assert replayed.summary.end == {"people": 6, "objects": 1, "anonymous_events": 0, "suppressed": 2}
    ids = sorted(p["identifiers"]["id"] for p in replayed.mock.people())
    assert ids == ["user-1001", "user-2002", "user-3001", "user-3002", "user-4004", "user-6007"]
