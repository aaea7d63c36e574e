"""The pytest plugin (entry point `pytest11: cio_mock`): a fresh in-process mock per test.

Where it sits: in the test suites of code that talks to Customer.io through `requests`. The
`cio_mock` fixture is an active `mock_cio.intercept()` handle on a new app, so the test's calls to
`track.customer.io` / `track-eu.customer.io` reach the mock and nothing else reaches the network.
It carries the assertion helpers of `mock_cio.assertions` as methods:

    def test_signup(cio_mock):
        signup("u1")
        cio_mock.assert_person("u1", attributes={"plan": "free"}, events=["signed_up"])
        cio_mock.assert_no_rejections()

Configure the app with the `cio_mock` marker (keys of `create_app`'s config, plus `hosts` and
`passthrough` of `intercept()`), or by overriding the `cio_mock_config` fixture:

    @pytest.mark.cio_mock(CIO_NOW="2024-01-01T00:00:00Z", CIO_WORKSPACES={"s1": {"api_key": "k"}})

mock_cio is imported only when the fixture is used, so the plugin costs nothing elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mock_cio.intercept import Intercept

_INTERCEPT_KEYS = ("hosts", "passthrough")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cio_mock(**config): configure the cio_mock fixture's app (CIO_NOW, CIO_WORKSPACES, ...) "
        "and interceptor (hosts, passthrough)",
    )


@pytest.fixture
def cio_mock_config() -> dict[str, Any]:
    """The `cio_mock` fixture's configuration; override it in a conftest for a whole suite."""
    return {}


@pytest.fixture
def cio_mock(request: pytest.FixtureRequest, cio_mock_config: dict[str, Any]) -> Iterator[Intercept]:
    """An active `mock_cio.intercept()` on a fresh mock app, with the assertion helpers."""
    from mock_cio.intercept import Intercept

    config = dict(cio_mock_config)
    marker = request.node.get_closest_marker("cio_mock")
    if marker is not None:
        if marker.args:
            pytest.fail(
                f"@pytest.mark.cio_mock takes keyword arguments only, got {marker.args!r}", pytrace=False
            )
        config.update(marker.kwargs)
    options = {key: config.pop(key) for key in _INTERCEPT_KEYS if key in config}
    handle = Intercept(None, config=config, **options)
    with handle:
        yield handle
    handle.mock.close()
