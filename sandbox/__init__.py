"""cio-sandbox's transform core: Segment events in, the exact Customer.io requests out.

The public API. Names load on first use (PEP 562), so `import sandbox` and the command line stay
fast; `sandbox.plan`, `from sandbox import transform` and friends work as usual. `_EXPORTS` (name →
module) is the one list of public names: `__all__` is derived from it, and the tests check the
type checkers' imports below and the README against it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ACTIONS": "sandbox.actions",
    "ActionDefinition": "sandbox.actions",
    "AUTOMATIC": "sandbox.actions.presets",
    "CioRequest": "sandbox.actions.request",
    "ConfigError": "sandbox.errors",
    "EventTrace": "sandbox.pipeline",
    "InputError": "sandbox.errors",
    "MappingError": "sandbox.errors",
    "PRESETS": "sandbox.actions.presets",
    "PayloadValidationError": "sandbox.errors",
    "PlanLine": "sandbox.pipeline",
    "Result": "sandbox.pipeline",
    "SandboxError": "sandbox.errors",
    "Settings": "sandbox.actions.settings",
    "Subscription": "sandbox.actions.presets",
    "SubscriptionSyntaxError": "sandbox.errors",
    "SubscriptionTrace": "sandbox.pipeline",
    "UnsupportedBatchError": "sandbox.errors",
    "explain": "sandbox.subscriptions",
    "matches": "sandbox.subscriptions",
    "parse_subscription": "sandbox.subscriptions",
    "plan": "sandbox.pipeline",
    "resolve": "sandbox.mapping",
    "send": "sandbox.actions.request",
    "trace": "sandbox.pipeline",
    "transform": "sandbox.pipeline",
    "validate_mapping": "sandbox.mapping",
}

__all__ = sorted(_EXPORTS)  # the one list of public names is `_EXPORTS`

if TYPE_CHECKING:  # pragma: no cover  (for type checkers; tests/test_public_api.py checks it names _EXPORTS)
    from sandbox.actions import ACTIONS, ActionDefinition
    from sandbox.actions.presets import AUTOMATIC, PRESETS, Subscription
    from sandbox.actions.request import CioRequest, send
    from sandbox.actions.settings import Settings
    from sandbox.errors import (
        ConfigError,
        InputError,
        MappingError,
        PayloadValidationError,
        SandboxError,
        SubscriptionSyntaxError,
        UnsupportedBatchError,
    )
    from sandbox.mapping import resolve, validate_mapping
    from sandbox.pipeline import EventTrace, PlanLine, Result, SubscriptionTrace, plan, trace, transform
    from sandbox.subscriptions import explain, matches, parse_subscription


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
