"""Destination-level requests that are not actions: testAuthentication and onDelete (GDPR deletion)."""

from __future__ import annotations

from sandbox.actions.request import CioRequest, make_headers
from sandbox.actions.settings import US_HOST, Settings
from sandbox.js.numbers import number_to_string
from sandbox.js.values import Event


def test_authentication(settings: Settings) -> CioRequest:
    """`GET https://track.customer.io/auth`: always the US host, whatever the region."""
    return CioRequest("GET", US_HOST + "/auth", make_headers(settings.authorization, with_body=False), None)


test_authentication.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def on_delete(event: Event, settings: Settings) -> CioRequest:
    """`DELETE {host}/api/v1/customers/{userId}`; the id is not URL-encoded, a missing one is `undefined`."""
    user_id = event.get("userId")
    if "userId" not in event:
        text = "undefined"
    elif user_id is None:
        text = "null"
    elif isinstance(user_id, (bool, int, float)):
        text = number_to_string(user_id)
    else:
        text = str(user_id)
    return CioRequest(
        "DELETE",
        f"{settings.track_url}/api/v1/customers/{text}",
        make_headers(settings.authorization, with_body=False),
        None,
    )
