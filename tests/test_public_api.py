"""The public surface of `sandbox`: exactly these names, all importable, and a light `import sandbox`."""

from __future__ import annotations

import subprocess
import sys

import sandbox

PUBLIC = [
    "ACTIONS",
    "AUTOMATIC",
    "ActionDefinition",
    "CioRequest",
    "ConfigError",
    "EventTrace",
    "InputError",
    "MappingError",
    "PRESETS",
    "PayloadValidationError",
    "PlanLine",
    "Result",
    "SandboxError",
    "Settings",
    "Subscription",
    "SubscriptionSyntaxError",
    "SubscriptionTrace",
    "UnsupportedBatchError",
    "explain",
    "matches",
    "parse_subscription",
    "plan",
    "resolve",
    "send",
    "trace",
    "transform",
    "validate_mapping",
]


def test_all_is_the_public_names_sorted() -> None:
    assert sandbox.__all__ == sorted(PUBLIC)


def test_every_public_name_resolves() -> None:
    for name in sandbox.__all__:
        assert getattr(sandbox, name) is not None
    assert len(sandbox.PRESETS) == 21 and len(sandbox.AUTOMATIC) == 15 and len(sandbox.ACTIONS) == 15
    assert issubclass(sandbox.PayloadValidationError, sandbox.SandboxError)


def test_import_stays_light() -> None:
    """Neither `import sandbox` nor the transform itself loads requests or a Liquid engine."""
    code = (
        "import sys, sandbox; from sandbox import transform, Settings;"
        "transform({'type': 'identify', 'userId': 'u'}, Settings('a', 'b'));"
        "print(sorted(m for m in ('requests', 'liquid', 'flask') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
