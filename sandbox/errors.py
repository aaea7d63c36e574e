"""Errors raised by the transform core. Every error says where the problem is.

* SandboxError (ValueError)
  - SubscriptionSyntaxError  .text, .position     FQL that does not parse; str() draws a caret
  - MappingError             .path                mapping-kit validation or resolution failure
  - PayloadValidationError   .action, .name       a payload the action's schema rejects (Ajv's text)
  - UnsupportedBatchError                         reportDeliveryEvent has no batch form
  - InputError               .source              a plan/run input that cannot be used
  - ConfigError              .file, .subscription, .path
"""

from __future__ import annotations

from collections.abc import Sequence


class SandboxError(ValueError):
    """Root of every error the sandbox package raises on purpose."""


class SubscriptionSyntaxError(SandboxError):
    """A subscription (FQL) that does not parse. `position` is a 0-based column into `text`."""

    def __init__(self, message: str, text: str, position: int) -> None:
        self.message = message
        self.text = text
        self.position = position
        super().__init__(message)

    def __str__(self) -> str:
        line = self.text.replace("\n", " ")
        return f"{self.message} at column {self.position + 1}\n  {line}\n  {' ' * self.position}^"


class MappingError(SandboxError):
    """A mapping that fails mapping-kit validation or resolution; `path` locates the key."""

    name = "Error"  # mapping-kit throws a plain Error while resolving (plan reports it by that name)

    def __init__(self, message: str, path: Sequence[str] = ()) -> None:
        self.message = message
        self.path = tuple(path)
        super().__init__(message)


class PayloadValidationError(SandboxError):
    """A payload rejected by the action's field schema. The message is Ajv-human's text, verbatim."""

    name = "AggregateAjvError"

    def __init__(self, message: str, action: str = "") -> None:
        self.message = message
        self.action = action
        super().__init__(message)


class UnsupportedBatchError(SandboxError):
    """executeBatch on an action without performBatch (reportDeliveryEvent)."""

    name = "IntegrationError"


class InputError(SandboxError):
    """An input document (events, settings, subscriptions) that cannot be used."""

    def __init__(self, message: str, source: str = "") -> None:
        self.message = message
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class ConfigError(SandboxError):
    """A configuration file problem, located by file, subscription name and key path."""

    def __init__(self, message: str, file: str = "", subscription: str = "", path: str = "") -> None:
        self.message = message
        self.file = file
        self.subscription = subscription
        self.path = path
        where = ": ".join(
            part for part in (file, f"subscription {subscription!r}" if subscription else "", path) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
