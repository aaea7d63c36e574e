"""The benchmark scripts start as the README runs them (`python bench/NAME.py`): a script's folder
comes first on sys.path, so a script named like a standard library module would hide that module
from every other script (bench/http.py once hid `http`, and `python bench/replay.py` failed
importing Flask)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(path for path in BENCH.glob("*.py") if path.name != "__init__.py")


def test_no_script_takes_a_standard_library_name() -> None:
    hiding = [path.name for path in SCRIPTS if path.stem in sys.stdlib_module_names]
    assert hiding == []
