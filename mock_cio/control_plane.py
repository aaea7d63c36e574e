"""Who may use the control plane (the admin API under `/_mock/` and the sandbox's inspector).

Where it sits: a check before every admin view (admin.py) and inspector page (sandbox/live). The
Track API is not guarded: clients call it with any host name they were given (the in-process
interceptor sends `track.customer.io`), and it only takes what Customer.io would take.

The rules (see README, "How the mock decides"):

- `Host` must be a name a DNS-rebinding page cannot use: an IP address (`127.0.0.1`, `[::1]`, the
  address the server listens on), `localhost` or a `*.localhost` name, one of Customer.io's hosts,
  or a name declared with `CIO_ALLOWED_HOSTS` (`--allow-host`). Anything else is answered 403.
- Writes (any method but GET, HEAD and OPTIONS) are refused when they come from a web page of
  another origin: a request whose `Origin` is not this server's own (same host and port) and not
  a loopback origin is answered 403; and a POST must carry a JSON content type or an
  `X-Mock-Admin` header, which a page can send to another origin only after a CORS preflight that
  the control plane never grants (a text/plain, form or empty POST is answered 415). PUT and
  DELETE always need that preflight, so they need neither.
- `--host` other than a loopback address exposes this unauthenticated API to the network: the
  server refuses to start unless `--allow-remote` is given, and then prints a warning.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from mock_cio.errors import MockError, RemoteRefused  # noqa: F401  (defined in mock_cio.errors; importable here too)

ADMIN_HEADER = "X-Mock-Admin"
"""A header that lets a client without a JSON body (`POST /_mock/reset`) pass the write check."""
CUSTOMERIO_HOSTS = frozenset(
    ("track.customer.io", "track-eu.customer.io", "api.customer.io", "api-eu.customer.io")
)
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def _hostname(host: str) -> tuple[str, str]:
    """`"[::1]:8787"` → `("::1", "8787")`; `"Example.COM"` → `("example.com", "")`."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest.lstrip(":")
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name, port
    return host, ""


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_allowed(host: str | None, declared: Iterable[str] = ()) -> bool:
    """Whether a `Host` header may reach the control plane (see the module's doc)."""
    if not host:
        return True  # HTTP/1.0 without Host: no name a rebinding page could have put there
    name, _ = _hostname(host)
    name = name.rstrip(".")
    return (
        _is_ip(name)
        or _is_loopback(name)
        or name in CUSTOMERIO_HOSTS
        or name in {d.strip().lower().rstrip(".") for d in declared}
    )


def _origin_allowed(origin: str, host: str | None) -> bool:
    if origin == "null":
        return False
    try:
        parts = urlsplit(origin)
        name = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return False
    if _is_loopback(name):
        return True
    own_name, own_port = _hostname(host or "")
    default = "443" if parts.scheme == "https" else "80"
    return name == own_name and str(port or default) == (own_port or default)


def _is_json(content_type: str | None) -> bool:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def refusal(
    method: str, host: str | None, headers: Any, declared: Iterable[str] = ()
) -> tuple[int, str] | None:
    """(status, one-line reason) when this control-plane request must be refused, else None.
    `headers`: a case-insensitive mapping with `.get` (Werkzeug's `Headers`)."""
    if not host_allowed(host, declared):
        return 403, (
            f"Host {host!r} is not a loopback or declared name: the control plane answers only "
            "IP addresses, localhost and Customer.io's hosts (declare others with --allow-host "
            "or CIO_ALLOWED_HOSTS); this protects it from DNS rebinding"
        )
    if method.upper() in SAFE_METHODS:
        return None
    origin = headers.get("Origin")
    if origin is not None and not _origin_allowed(origin, host):
        return 403, (
            f"cross-origin write refused: Origin {origin!r} is not this server's; "
            "the control plane takes writes only from its own origin, loopback pages or non-browser clients"
        )
    # PUT, DELETE and PATCH are never "simple" requests: a page of another origin must ask first
    # (a CORS preflight the control plane never grants). A POST is simple with a text/plain or
    # form body, or none: it needs a JSON type or the header a page cannot add unasked.
    if (
        method.upper() == "POST"
        and not _is_json(headers.get("Content-Type"))
        and headers.get(ADMIN_HEADER) is None
    ):
        return 415, (
            f"{method.upper()} needs Content-Type: application/json (or an {ADMIN_HEADER} header): "
            "the control plane refuses bodies a web page could send to it without asking (text/plain, forms)"
        )
    return None


# ---------------------------------------------------------------------- command-line options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--allow-remote` and `--allow-host` (shared by `python -m mock_cio` and `cio-sandbox serve`)."""
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow --host to be a non-loopback address: anyone who can reach it can "
                        "reset, read and change the mock (there is no authentication)")  # fmt: skip
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                        help="a host name the admin API and the inspector answer besides IP addresses, "
                        "localhost and Customer.io's hosts; repeatable")  # fmt: skip


def check_listen(host: str, allow_remote: bool, err: Any = None) -> None:
    """Refuse (RemoteRefused) a non-loopback `host` without `allow_remote`; warn when allowed."""
    name = host.strip("[]").lower()
    if _is_loopback(name):
        return
    if not allow_remote:
        raise RemoteRefused(
            f"--host {host} would expose the unauthenticated admin API (/_mock/) and the inspector "
            "to the network: listen on 127.0.0.1, or add --allow-remote to do it anyway"
        )
    print(
        f"warning: listening on {host}: anyone who can reach this address can read, reset and change "
        "the mock (the admin API has no authentication)",
        file=err if err is not None else sys.stderr,
        flush=True,
    )


def config_from(args: argparse.Namespace) -> dict[str, Any]:
    """The app config these options give (after `check_listen` on `args.host`)."""
    check_listen(args.host, getattr(args, "allow_remote", False))
    hosts = list(getattr(args, "allow_host", []) or [])
    return {"CIO_ALLOWED_HOSTS": hosts} if hosts else {}
