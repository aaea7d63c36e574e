"""The public surface of `sandbox`: exactly these names, all importable, and a light `import sandbox`."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import sandbox

ROOT = Path(__file__).resolve().parent.parent


def _type_checking_imports() -> dict[str, str]:
    """name → module of the `if TYPE_CHECKING:` imports in sandbox/__init__.py."""
    tree = ast.parse((ROOT / "sandbox" / "__init__.py").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for item in node.body:
                assert isinstance(item, ast.ImportFrom) and item.module is not None
                for alias in item.names:
                    found[alias.asname or alias.name] = item.module
    return found


def test_all_is_the_lazy_table_sorted() -> None:
    """`_EXPORTS` is the one list: `__all__` and `dir()` follow it."""
    assert sandbox.__all__ == sorted(sandbox._EXPORTS)
    assert set(sandbox.__all__) <= set(dir(sandbox))


def test_type_checkers_see_the_same_names_from_the_same_modules() -> None:
    assert _type_checking_imports() == sandbox._EXPORTS


def test_the_readme_documents_every_public_name() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Library use", 1)[1].split("\n## ", 1)[0]
    missing = [
        name for name in sandbox.__all__ if f"`{name}`" not in section and f"sandbox.{name}" not in section
    ]
    assert not missing, f"README's 'Library use' does not name: {', '.join(missing)}"


def test_every_public_name_resolves() -> None:
    for name in sandbox.__all__:
        assert getattr(sandbox, name) is getattr(importlib.import_module(sandbox._EXPORTS[name]), name)
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
