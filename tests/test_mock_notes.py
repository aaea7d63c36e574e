"""Two journal details found while testing the live server: an injected fault's entry names its
workspace, and an identify that gives a person found by email a new id says so."""

from __future__ import annotations

import base64

import mock_cio

T0 = 1_700_000_000


def auth(site: str, key: str = "k") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{site}:{key}".encode()).decode(),
            "Content-Type": "application/json"}  # fmt: skip


def test_an_injected_fault_is_journaled_in_its_workspace() -> None:
    mock = mock_cio.create_app({"CIO_NOW": T0}).extensions["mock_cio"]
    mock.inject_fault(status=503)
    answer = mock.serve("PUT", "track.customer.io", "/api/v1/customers/u1", "", auth("site-a"), b"{}")
    assert answer.status == 503
    entry = mock.request(answer.entry_id)
    assert entry["workspace"] == "site-a"
    assert entry["reasons"] == ["fault injected: status 503"]
    assert mock.journal_count(workspace="site-a") == 1


def test_an_identify_that_changes_an_id_through_the_email_is_noted() -> None:
    mock = mock_cio.create_app({"CIO_NOW": T0}).extensions["mock_cio"]
    mock.serve("PUT", "track.customer.io", "/api/v1/customers/old", "", auth("s"), b'{"email": "a@b.co"}')
    answer = mock.serve(
        "PUT", "track.customer.io", "/api/v1/customers/new", "", auth("s"), b'{"email": "a@b.co"}'
    )
    assert answer.status == 200
    notes = mock.request(answer.entry_id)["notes"]
    assert any("id changed from 'old' to 'new'" in note and "found by their email" in note for note in notes)
    assert mock.person("new")["identifiers"]["email"] == "a@b.co" and mock.person("old") is None
    same = mock.serve("PUT", "track.customer.io", "/api/v1/customers/new", "", auth("s"), b'{"plan": "pro"}')
    assert not any("id changed" in note for note in mock.request(same.entry_id)["notes"])
