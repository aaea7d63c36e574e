"""Credentials and regions: who is calling, and may they call this host.

Where it sits: first step of a Track API request, before the body is read. `credentials` decodes
HTTP Basic `site_id:api_key` (standard or URL-safe base64: the Go client uses the URL-safe
alphabet); `host_region` tells which regional host was called; `check` applies the workspace's
declared api_key and region (docs/decisions.md §2.2):

- by default any non-empty credentials are accepted and each site_id is its own workspace;
- a workspace with a declared `api_key` accepts only that key (401 otherwise);
- with `CIO_ONLY_DECLARED`, a site_id nobody declared gets 401 too;
- a US workspace on the EU host gets 401 (Customer.io: "requests fail"); an EU workspace on the US
  host is accepted and the journal notes the redirect Customer.io would do.

Host → region: `track-eu.customer.io` (or any host whose first label is `track-eu`) is EU; every
other host (`track.customer.io`, `127.0.0.1`, `localhost`) is US, unless the request carries
`X-Mock-Region: eu|us` (for the live server, where the Host is a local address) or the app's
`CIO_DEFAULT_REGION` says otherwise.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
from dataclasses import dataclass
from typing import Literal

from mock_cio.errors import AuthError  # noqa: F401  (defined in mock_cio.errors; importable here too)

Region = Literal["us", "eu"]
REGION_HEADER = "X-Mock-Region"
UNAUTHORIZED = {"meta": {"error": "Unauthorized request"}}
HOSTS: dict[str, str] = {"us": "https://track.customer.io", "eu": "https://track-eu.customer.io"}


@dataclass(frozen=True, slots=True)
class Credentials:
    site_id: str
    api_key: str


def credentials(header: str | None) -> Credentials:
    """Decode `Authorization: Basic …`; raise AuthError saying what is wrong."""
    decoded = _decoded(header)
    if isinstance(decoded, str):
        raise AuthError(decoded)
    return decoded


@functools.lru_cache(maxsize=256)
def _decoded(header: str | None) -> Credentials | str:
    """`credentials`, remembered: a client sends the same header on every request."""
    try:
        return _decode(header)
    except AuthError as exc:
        return str(exc)


def _decode(header: str | None) -> Credentials:
    if not header:
        raise AuthError("no Authorization header (expected HTTP Basic site_id:api_key)")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        raise AuthError(f"Authorization scheme {scheme!r} is not Basic (expected HTTP Basic site_id:api_key)")
    token = token.strip()
    padded = token + "=" * (-len(token) % 4)
    try:
        if "-" in token or "_" in token:
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise AuthError("Authorization Basic token is not valid base64") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AuthError("Authorization Basic token is not UTF-8 text") from None
    site_id, colon, api_key = text.partition(":")
    if not colon:
        raise AuthError("Authorization Basic token has no ':' between site_id and api_key")
    if not site_id:
        raise AuthError("Authorization Basic token has an empty site_id")
    if not api_key:
        raise AuthError(f"Authorization Basic token has an empty api_key for site_id {site_id!r}")
    return Credentials(site_id, api_key)


def host_region(host: str, header: str | None, default: Region = "us") -> Region:
    """The region of the host the request was sent to (see the module docstring)."""
    name = host.split(":", 1)[0].lower()
    first = name.split(".", 1)[0]
    if first == "track-eu":
        return "eu"
    if first == "track" and name.endswith(".customer.io"):
        return "us"
    if header:
        value = header.strip().lower()
        if value in ("us", "eu"):
            return value  # type: ignore[return-value]
    return default


def check(
    creds: Credentials,
    *,
    declared_key: str | None,
    region: Region,
    called: Region,
    known: bool,
    only_declared: bool,
) -> str | None:
    """Apply a workspace's declared key and region; return a journal note or None; raise AuthError."""
    if declared_key is not None:
        if not hmac.compare_digest(declared_key.encode(), creds.api_key.encode()):
            raise AuthError(f"api_key does not match the declared credentials of site_id {creds.site_id!r}")
    elif only_declared and not known:
        raise AuthError(f"site_id {creds.site_id!r} is not a declared workspace (CIO_ONLY_DECLARED is on)")
    if region == "us" and called == "eu":
        raise AuthError(f"site_id {creds.site_id!r} is a US workspace: its requests fail on the EU host")
    if region == "eu" and called == "us":
        return (
            f"site_id {creds.site_id!r} is an EU workspace called on the US host: Customer.io redirects "
            f"to {HOSTS['eu']} (the data transits the US); accepted"
        )
    return None


def redact(headers: dict[str, str]) -> dict[str, str]:
    """Headers for the journal: credentials hidden, the Basic site_id kept visible."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        low = name.lower()
        if low == "authorization":
            out[name] = _redacted_authorization(value)
        elif low in ("cookie", "proxy-authorization", "x-api-key"):
            out[name] = "[redacted]"
        else:
            out[name] = value
    return out


@functools.lru_cache(maxsize=256)
def _redacted_authorization(value: str) -> str:
    try:
        creds = credentials(value)
    except AuthError:
        scheme = value.strip().partition(" ")[0]
        return f"{scheme} [redacted]" if scheme else "[redacted]"
    return f"Basic site_id={creds.site_id} api_key=[redacted]"
