"""Helpers for the mock_cio HTTP tests: a client bound to a workspace's credentials and host."""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from shared_data import shared_json

from mock_cio import create_app
from mock_cio.mock import MockCio

US = "https://track.customer.io"
EU = "https://track-eu.customer.io"
T0 = 1_700_000_000.0


def basic(site_id: str = "site1", api_key: str = "key1", *, urlsafe: bool = False) -> str:
    raw = f"{site_id}:{api_key}".encode()
    encoded = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
    return "Basic " + encoded.decode()


class Track:
    """A Track API client: `track.put("/api/v1/customers/u1", {"a": 1})`."""

    def __init__(self, app: Flask, site_id: str = "site1", api_key: str = "key1", base_url: str = US) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.headers = {"Authorization": basic(site_id, api_key)}
        self.base_url = base_url

    @property
    def mock(self) -> MockCio:
        return self.app.extensions["mock_cio"]

    def open(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, headers=None, **kw):
        sent = dict(self.headers)
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        return self.client.open(
            path, method=method, data=data, headers=sent, base_url=kw.get("base_url", self.base_url)
        )

    def put(self, path: str, body: Any = None, **kw):
        return self.open("PUT", path, body, **kw)

    def post(self, path: str, body: Any = None, **kw):
        return self.open("POST", path, body, **kw)

    def delete(self, path: str, body: Any = None, **kw):
        return self.open("DELETE", path, body, **kw)

    def get(self, path: str, **kw):
        return self.open("GET", path, **kw)

    def last(self) -> dict[str, Any]:
        """The newest journal entry."""
        return self.mock.requests(limit=1)[0]


def make(config: dict[str, Any] | None = None, **kw: Any) -> Track:
    return Track(create_app({"CIO_NOW": T0, **(config or {})}), **kw)


def oas() -> dict[str, Any]:
    """Customer.io's published Track API OpenAPI document, read from ../shared/spec."""
    return shared_json("spec", "customerio-track-openapi.json")


def oas_response_schema(path: str, method: str, status: str) -> dict[str, Any]:
    """A response schema of Customer.io's OpenAPI, with the document's components for $refs."""
    doc = oas()
    response = doc["paths"][path][method]["responses"][status]
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = dict(response["content"]["application/json"]["schema"])
    schema["components"] = doc["components"]
    return schema
