"""The admin API's OpenAPI document: structurally valid, covers every /_mock/ route, and the JSON the
routes actually serve matches the schemas it documents."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest

from mock_cio.admin import openapi_document
from tests.mock_support import make

DOC = openapi_document()
METHODS = ("get", "put", "post", "delete", "patch")


def _walk(node: Any, where: str = "#"):
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{where}/{index}")


def _resolve(ref: str) -> Any:
    node: Any = DOC
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "components": DOC["components"]}


def test_document_shape() -> None:
    assert DOC["openapi"].startswith("3.1.") and DOC["info"]["title"] and DOC["info"]["version"]
    operation_ids = []
    for path, item in DOC["paths"].items():
        assert path.startswith("/_mock/"), path
        for method, op in item.items():
            assert method in METHODS, (path, method)
            assert op["operationId"] and op["summary"] and op["responses"], (path, method)
            operation_ids.append(op["operationId"])
            for status, response in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status) and response["description"]
            placeholders = set(re.findall(r"{(\w+)}", path))
            params = [_resolve(p["$ref"]) if "$ref" in p else p for p in op.get("parameters", [])]
            assert {p["name"] for p in params if p["in"] == "path"} == placeholders, path
    assert len(operation_ids) == len(set(operation_ids))


def test_every_ref_resolves_and_every_schema_is_valid_json_schema() -> None:
    for where, node in _walk(DOC):
        if "$ref" in node:
            _resolve(node["$ref"])
        if where.endswith("/schema") or re.search(r"/components/schemas/\w+$", where):
            jsonschema.Draft202012Validator.check_schema(_schema(node))


def test_every_admin_route_is_documented() -> None:
    app = make().app
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/_mock") or rule.endpoint == "mock_admin.unknown":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    documented = {(path, method) for path, item in DOC["paths"].items() for method in item}
    assert served == documented


def _traffic():
    track = make()
    track.put("/api/v1/customers/u1", {"email": "u1@example.com"})
    track.put("/api/v1/customers/u1/devices", {"device": {"id": "t", "platform": "ios"}})
    track.post("/api/v1/customers/u1/events", {"name": "A", "data": {"x": 1}})
    track.post("/api/v1/events", {"name": "V", "anonymous_id": "a1"})
    track.post("/api/v1/metrics", {"delivery_id": "d", "metric": "opened"})
    track.put("/api/v1/customers/u1", raw=b"\xff", headers={"Content-Type": "application/json"})
    track.post(
        "/api/v2/entity",
        {"type": "object", "action": "identify", "identifiers": {"object_type_id": "1", "object_id": "o"},
         "cio_relationships": [{"identifiers": {"id": "u1"}, "relationship_attributes": {"r": 1}}]},
    )  # fmt: skip
    return track


@pytest.mark.parametrize(
    ("method", "url", "path", "body"),
    [
        ("get", "/_mock/requests", "/_mock/requests", None),
        ("get", "/_mock/requests/count", "/_mock/requests/count", None),
        ("get", "/_mock/requests/1", "/_mock/requests/{entry_id}", None),
        ("get", "/_mock/people", "/_mock/people", None),
        ("get", "/_mock/people/u1", "/_mock/people/{identifier}", None),
        ("get", "/_mock/anonymous_events", "/_mock/anonymous_events", None),
        ("get", "/_mock/objects", "/_mock/objects", None),
        ("get", "/_mock/metrics", "/_mock/metrics", None),
        ("get", "/_mock/snapshot", "/_mock/snapshot", None),
        ("get", "/_mock/clock", "/_mock/clock", None),
        ("post", "/_mock/clock", "/_mock/clock", {"advance": 5}),
        ("get", "/_mock/workspaces", "/_mock/workspaces", None),
        ("get", "/_mock/workspaces/site1", "/_mock/workspaces/{site_id}", None),
        ("put", "/_mock/workspaces/site1", "/_mock/workspaces/{site_id}", {"rate_limit": 10}),
        ("post", "/_mock/faults", "/_mock/faults", {"status": 503}),
        ("get", "/_mock/faults", "/_mock/faults", None),
        ("delete", "/_mock/faults", "/_mock/faults", None),
        ("get", "/_mock/openapi.json", "/_mock/openapi.json", None),
        ("post", "/_mock/reset", "/_mock/reset", None),
        ("get", "/_mock/people/ghost", "/_mock/people/{identifier}", None),
        ("post", "/_mock/clock", "/_mock/clock", {"now": "never"}),
        ("put", "/_mock/workspaces/site1", "/_mock/workspaces/{site_id}", {"region": "mars"}),
    ],
)
def test_served_json_matches_the_documented_schema(method: str, url: str, path: str, body: Any) -> None:
    track = _traffic()
    r = track.client.open(url, method=method.upper(), json=body)
    op = DOC["paths"][path][method]
    response = op["responses"][str(r.status_code)]
    if "requestBody" in op and body is not None and r.status_code == 200:
        jsonschema.validate(body, _schema(op["requestBody"]["content"]["application/json"]["schema"]))
    jsonschema.validate(r.json, _schema(response["content"]["application/json"]["schema"]))


def test_journal_entries_of_every_kind_match_the_schema() -> None:
    track = _traffic()
    schema = _schema({"$ref": "#/components/schemas/JournalEntry"})
    entries = track.mock.requests()
    assert {e["outcome"] for e in entries} == {"accepted", "rejected"}
    for entry in entries:
        jsonschema.validate(entry, schema)
