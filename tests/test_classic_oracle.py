"""The classic model's request bodies against the packages the classic integration is built on:
its message facade (@segment/facade) and date packages, run with Node (tests/classic_reference),
composed by the mapper's published rules (oracle.js). Skips without Node unless
CIO_SANDBOX_REQUIRE_NODE=1 (CI), which makes that a failure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sandbox.actions.settings import Settings
from sandbox.classic import classic_plan
from tests.test_classic_dates_oracle import DATEISH, oracle  # noqa: F401 - the oracle fixture

SETTINGS = Settings("site", "key")

KEYS = st.sampled_from(
    ["created", "Created", "createdAt", "created_at", "CREATED", "email", "Email", "e-mail", "name",
     "plan", "url", "category", "id", "since", "tags"]
)  # fmt: skip
EMAILS = st.sampled_from(["a@b.co", "Sam.Taylor+x@example.net", "not-an-email", "@x.io", ""])
LEAVES = st.one_of(DATEISH, EMAILS, st.integers(-(10**12), 10**13), st.booleans(), st.none(),
                   st.text(max_size=5))  # fmt: skip
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=6,
)
OBJECTS = st.dictionaries(KEYS, VALUES, max_size=6)
USER_IDS = st.sampled_from(["user-1", "amir@segment.io", "42"])
TIMESTAMPS = st.sampled_from(["2024-03-05T12:00:00.000Z", "2014-01-01T00:00:00Z", "2024-03-05 10:00:00"])


def _event(kind, user_id, data, timestamp, extra):
    event = {"type": kind, "userId": user_id, "timestamp": timestamp, **extra}
    event["traits" if kind in ("identify", "group") else "properties"] = data
    return event


EVENTS = st.one_of(
    st.builds(_event, st.just("identify"), USER_IDS, OBJECTS, TIMESTAMPS, st.just({})),
    st.builds(
        _event, st.just("group"), USER_IDS, OBJECTS, TIMESTAMPS,
        st.fixed_dictionaries({"groupId": st.sampled_from(["acme", "team@acme.io", "g-2"])}),
    ),
    st.builds(
        _event, st.just("track"), USER_IDS, OBJECTS, TIMESTAMPS,
        st.fixed_dictionaries({"event": st.sampled_from(["Order Completed", "Signed Up"])}),
    ),
    st.builds(
        _event, st.sampled_from(["page", "screen"]), USER_IDS, OBJECTS, TIMESTAMPS,
        st.fixed_dictionaries({}, optional={"name": st.sampled_from(["Home", "", "Pricing"]),
                                            "category": st.sampled_from(["Docs", ""])}),
    ),
)  # fmt: skip


@given(EVENTS)
def test_bodies_equal_the_published_packages(oracle, event):  # noqa: F811 - the fixture
    plan = classic_plan(event, SETTINGS, 0)
    main = plan.calls[-1].request.body  # page and screen: the event after the _last_visit PUT
    assert main == oracle("body", event)


def test_the_published_fixtures(oracle):  # noqa: F811
    event = {"type": "identify", "userId": "user-id", "timestamp": "2014-01-01T00:00:00Z",
             "traits": {"email": "a@b.co", "created": "2014-01-01T00:00:00.000Z", "trait": True}}  # fmt: skip
    assert classic_plan(event, SETTINGS, 0).calls[0].request.body == oracle("body", event)
