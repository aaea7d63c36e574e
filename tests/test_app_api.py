"""The App API's transactional sends: the official `customerio` APIClient, unmodified, through each
send method, in-process (`intercept()`, the App API hosts) and live (`serve --tls`); what the mock
checks and how it answers; the inspector's "messages that would have been sent"."""

from __future__ import annotations

import pytest
from customerio import (
    APIClient,
    CustomerIOException,
    Regions,
    SendEmailRequest,
    SendInAppRequest,
    SendInboxMessageRequest,
    SendPushRequest,
    SendSMSRequest,
    SendWhatsAppRequest,
)
from live_support import start_server

import mock_cio
from mock_cio.app_api import check_send
from mock_cio.remote import RemoteMock
from mock_cio.request_body import ApiError

T0 = 1_700_000_000
WHO = {"id": "u1"}


def email() -> SendEmailRequest:
    request = SendEmailRequest(transactional_message_id=3, to="Sarah <sarah@example.io>", identifiers=WHO,
                               message_data={"first_name": "Sarah"}, subject="Hi", send_at=T0 + 60)  # fmt: skip
    request.attach("receipt.txt", "paid")
    return request


SENDS = [
    ("send_email", "email", email),
    ("send_push", "push", lambda: SendPushRequest(transactional_message_id="welcome", identifiers=WHO, title="T")),
    ("send_sms", "sms", lambda: SendSMSRequest(transactional_message_id=4, identifiers={"email": "a@b.co"})),
    ("send_whatsapp", "whatsapp", lambda: SendWhatsAppRequest(transactional_message_id=5, identifiers=WHO)),
    ("send_inbox_message", "inbox_message", lambda: SendInboxMessageRequest(transactional_message_id=6, identifiers=WHO)),
    ("send_in_app", "in_app", lambda: SendInAppRequest(transactional_message_id=7, identifiers={"cio_id": "c1"})),
]  # fmt: skip


def _check_captured(cio, kind, request, answer):
    assert set(answer) == {"delivery_id", "queued_at"} and answer["queued_at"] == T0
    entry = cio.requests(path=f"/v1/send/{kind}")[0]
    assert (entry["method"], entry["status"], entry["outcome"]) == ("POST", 200, "accepted")
    assert entry["body"] == request._to_dict()
    assert entry["response"] == answer
    assert entry["headers"]["Authorization"] != "Bearer app-key"  # redacted like every credential
    assert any("captured (not sent)" in note for note in entry["notes"])


@pytest.mark.parametrize(("method", "kind", "build"), SENDS, ids=[s[0] for s in SENDS])
@pytest.mark.parametrize("region", [Regions.US, Regions.EU], ids=["us", "eu"])
def test_every_send_method_in_process(method, kind, build, region):
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        request = build()
        answer = getattr(APIClient("app-key", region=region), method)(request)
        _check_captured(cio, kind, request, answer)
        assert cio.requests()[0]["host"] == region.api_host
        assert cio.people() == []  # a send changes no state


@pytest.fixture(scope="module")
def live_tls(tmp_path_factory):
    folder = tmp_path_factory.mktemp("app-api-tls")
    with start_server(folder, "--tls", "--now", str(T0)) as server:
        yield server


@pytest.mark.parametrize(("method", "kind", "build"), SENDS, ids=[s[0] for s in SENDS])
def test_every_send_method_live_over_tls(live_tls, monkeypatch, method, kind, build):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(live_tls.ca))
    request = build()
    answer = getattr(APIClient("app-key", url=live_tls.url), method)(request)
    _check_captured(RemoteMock(live_tls.url, verify=str(live_tls.ca)), kind, request, answer)


def test_refusals_are_400_or_401_with_the_reason_and_journaled():
    with mock_cio.intercept(CIO_NOW=T0) as cio:
        client = APIClient("app-key", retries=0)
        with pytest.raises(CustomerIOException, match="to is required for an email"):
            client.send_email(SendEmailRequest(transactional_message_id=3, identifiers=WHO))
        with pytest.raises(CustomerIOException, match="exactly one of id, email or cio_id"):
            client.send_push(
                SendPushRequest(transactional_message_id=3, identifiers={"id": "u", "email": "e"})
            )
        with pytest.raises(CustomerIOException, match="^401"):
            APIClient("", retries=0).send_sms(SendSMSRequest(transactional_message_id=3, identifiers=WHO))
        assert [e["status"] for e in cio.requests()] == [401, 400, 400]
        assert all(e["outcome"] == "rejected" for e in cio.requests())


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("email", [], "must be a JSON object"),
        ("email", {"to": "a@b.co", "identifiers": WHO}, "transactional_message_id is required (or, for an email"),
        ("push", {"identifiers": WHO}, "transactional_message_id is required"),
        ("sms", {"transactional_message_id": 1}, "identifiers is required"),
        ("sms", {"transactional_message_id": 1, "identifiers": {}}, "exactly one of"),
        ("sms", {"transactional_message_id": 1, "identifiers": {"phone": "1"}}, "not phone"),
        ("sms", {"transactional_message_id": True, "identifiers": WHO}, "template id (number) or trigger name"),
        ("in_app", {"transactional_message_id": 1, "identifiers": WHO, "queue_draft": "yes"}, "queue_draft must be"),
        ("push", {"transactional_message_id": 1, "identifiers": WHO, "send_at": "soon"}, "send_at must be"),
        ("push", {"transactional_message_id": 1, "identifiers": WHO, "message_data": [1]}, "message_data must be"),
        ("email", {"transactional_message_id": 1, "identifiers": WHO, "to": "a@b.co", "attachments": {"a": "%%"}},
         "attachments.a is not valid base64"),
    ],
)  # fmt: skip
def test_what_the_mock_checks(kind, body, message):
    with pytest.raises(ApiError) as caught:
        check_send(kind, body)
    assert caught.value.status == 400
    assert message in caught.value.body["meta"]["error"]


def test_an_email_without_template_needs_from_subject_and_body():
    own = {"identifiers": WHO, "to": "a@b.co", "from": "shop@example.com", "subject": "S", "body": "<p>x</p>"}
    assert "no template" in check_send("email", own)[0]


def test_the_inspector_lists_messages_that_would_have_been_sent():
    from sandbox.live import create_live_app

    app = create_live_app({"CIO_NOW": T0})
    client = app.test_client()
    sent = client.post("/v1/send/email", json=email()._to_dict(), headers={"Authorization": "Bearer k"})
    assert sent.status_code == 200
    refused = client.post("/v1/send/email", json={"identifiers": WHO}, headers={"Authorization": "Bearer k"})
    assert refused.status_code == 400 and refused.is_json
    page = client.get("/messages").get_data(as_text=True)
    assert "Sarah &lt;sarah@example.io&gt;" in page and sent.get_json()["delivery_id"] in page
    assert page.count('class="row-accepted"') == 1
