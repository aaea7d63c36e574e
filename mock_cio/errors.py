"""Every error the mock Customer.io raises on purpose, under one root.

* MockError (Exception)    root of everything mock_cio raises on purpose
  * ApiError               a Track API request answered with an error (status, JSON body, reasons)
  * V2Invalid              a v2 operation that failed validation (its problems, as v2 reports them)
  * AuthError              why a request is answered 401
  * StateError             a request the state refuses on semantic grounds (400)
  * ClockError             a time the mock's clock cannot use
  * FaultError             a fault specification that cannot be used
  * AdminError             an admin API (`/_mock/…`) call answered with an error status
  * JournalError           a journal file that cannot be opened
  * JournalLocked          a journal file open in another process
  * JournalLost            a journal row lost with its transaction
  * JournalWriteError      an admin change that could not be journaled (503)
  * SegmentError           a segment or campaign definition that cannot be used
  * RemoteRefused          `--host` not loopback without `--allow-remote`
  * InterceptError         the in-process interceptor used wrongly
  * RemoteMockError        a running mock's admin API refused a call or could not be reached
  * ServerError            the live server could not start

Each is also importable from the module that raises it (`mock_cio.request_body.ApiError`, ...).
Every message says where the problem is (the field, the value, the path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_cio.request_body import V2Problem


class MockError(Exception):
    """Root of every error the mock_cio package raises on purpose."""


class ApiError(MockError):
    """A request answered with an error: `status`, the JSON `body`, and `reasons` for the journal."""

    def __init__(self, status: int, body: Any, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.status = status
        self.body = body
        self.reasons = reasons


class V2Invalid(MockError):
    """A v2 operation that failed validation (one or more problems)."""

    def __init__(self, problems: list[V2Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class AuthError(MockError):
    """Why a request is answered 401 (the message goes to the journal's reasons)."""


class StateError(MockError):
    """A request the state must reject (400) on semantic grounds; the message says where."""


class ClockError(MockError):
    """A time the clock cannot use (the message says which value and why)."""


class FaultError(MockError):
    """An invalid fault specification (the message names the field)."""


class AdminError(MockError):
    """An admin API call answered with `status` (400 unless said) and `{"error": message}`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class JournalError(MockError):
    """A journal file that cannot be opened (missing directory, a directory, not a database)."""


class InterceptError(MockError):
    """The interceptor was used wrongly (the message says how)."""


class RemoteMockError(MockError):
    """The admin API refused a call (the message is the server's) or could not be reached."""


class ServerError(MockError):
    """The server could not start (the message says why: port in use, unusable TLS directory, ...)."""


class SegmentError(MockError):
    """A segment or campaign definition that cannot be used (the admin API's 400)."""


class SourceError(MockError):
    """A `--source-to` / `CIO_SOURCE_TO` that is not a usable Segment HTTP API URL."""


class JournalWriteError(MockError):
    """An admin change that could not be journaled (and so was not made): the admin API's 503."""


class RemoteRefused(MockError):
    """`--host` names a non-loopback address and `--allow-remote` was not given."""


class JournalLocked(MockError):
    """The journal file is open in another process (the message names the file and the process)."""


class JournalLost(MockError):
    """A row was lost with its transaction: a write failed after it was written, before its commit."""
