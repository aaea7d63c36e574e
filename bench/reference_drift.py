"""Drift: what changes when the pin of @segment/action-destinations moves.

    python bench/reference_drift.py VERSION [--cases N] [--seed K] [--keep DIR]

Installs @segment/action-destinations VERSION (with the same actions-core and overrides as
tests/reference/package.json, Debian's node and npm, the npm registry) into a scratch directory,
then runs the differential cases through three sides: the pinned reference, the new version and
the sandbox. It prints, per kind of change (a URL, a header, a body, an error message, a request
more or fewer), how many cases the new version answers differently from the pinned one, with the
first examples, and whether the sandbox follows the old or the new answer. Moving the pin is then
a reviewed step: fix the sandbox for each change, bump tests/reference/package.json (npm install
there refreshes package-lock.json) and sandbox.actions.EMULATED_DESTINATION together.

The field table is compared too (labels, types, defaults, required flags, new or removed fields).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]  # the tests' helpers and the project

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from reference_strategies import cases  # noqa: E402
from reference_support import HERE, Reference, agree, ask_case, missing_reason, sandbox_outcome  # noqa: E402


def install(version: str, into: Path) -> Path:
    """npm install the destination at `version` beside the pinned actions-core, with the overrides."""
    pinned = json.loads((HERE / "package.json").read_text(encoding="utf-8"))
    package = {
        "name": "cio-sandbox-reference-drift",
        "private": True,
        "dependencies": {**pinned["dependencies"], "@segment/action-destinations": version},
        "overrides": pinned.get("overrides", {}),
    }
    into.mkdir(parents=True, exist_ok=True)
    (into / "package.json").write_text(json.dumps(package, indent=2), encoding="utf-8")
    shutil.copy(HERE / ".npmrc", into / ".npmrc")
    done = subprocess.run(["npm", "install", "--prefix", str(into)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"reference_drift: npm install of {version} failed:\n{done.stderr[-3000:]}")
    return into / "node_modules"


def kinds(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> set[str]:
    """What differs between two outcomes of one case."""
    if len(old) != len(new):
        return {"shape"}
    found: set[str] = set()
    for a, b in zip(old, new, strict=True):
        if a.get("rejected") != b.get("rejected") or a.get("skipped") != b.get("skipped"):
            found.add("subscription match")
        if a.get("error") != b.get("error") or a.get("errors") != b.get("errors"):
            found.add("error message")
        ra, rb = a.get("requests", []), b.get("requests", [])
        if len(ra) != len(rb):
            found.add("request count")
            continue
        for x, y in zip(ra, rb, strict=True):
            for part, name in ((0, "method"), (1, "url"), (2, "headers"), (3, "body")):
                if x[part] != y[part]:
                    found.add(name)
    return found


def fields_drift(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = []
    for slug in sorted(set(old) | set(new)):
        if slug not in new or slug not in old:
            lines.append(f"action {slug}: {'removed' if slug not in new else 'added'}")
            continue
        fo, fn = old[slug]["fields"], new[slug]["fields"]
        for name in sorted(set(fo) | set(fn)):
            if fo.get(name) != fn.get(name):
                lines.append(f"{slug}.{name}: {json.dumps(fo.get(name))} -> {json.dumps(fn.get(name))}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="the @segment/action-destinations version to compare with the pin")
    parser.add_argument("--cases", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--keep", type=Path, default=None, help="install there and keep it (default: a scratch dir)"
    )
    args = parser.parse_args(argv)
    reason = missing_reason()
    if reason is not None:
        print(f"reference_drift: {reason}", file=sys.stderr)
        return 2
    scratch = None
    if args.keep is None:
        scratch = tempfile.TemporaryDirectory(prefix="cio-drift-")
        target = Path(scratch.name)
    else:
        target = args.keep
    modules = install(args.version, target)
    pinned, newer = Reference(), Reference(modules=modules)
    chosen_seed = args.seed if args.seed is not None else random.randrange(2**32)
    tally: Counter[str] = Counter()
    follows: Counter[str] = Counter()
    examples: dict[str, dict[str, Any]] = {}
    total = [0]

    @seed(chosen_seed)
    @settings(max_examples=args.cases, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases(mode="single"))
    def compare(case: dict[str, Any]) -> None:
        for mode in ("single", "batch"):
            one = {**case, "mode": mode}
            total[0] += 1
            old, new = ask_case(pinned, one), ask_case(newer, one)
            if old == new:
                continue
            for kind in kinds(old, new):
                tally[kind] += 1
                examples.setdefault(kind, {"case": one, "pinned": old, "new": new})
            ours = sandbox_outcome(one)
            follows["pinned" if agree(old, ours) else "new" if agree(new, ours) else "neither"] += 1

    try:
        compare()
        field_lines = fields_drift(pinned.ask({"op": "describe"}), newer.ask({"op": "describe"}))
    finally:
        pinned.close()
        newer.close()
        if scratch is not None:
            scratch.cleanup()
    changed = sum(follows.values())
    print(f"seed {chosen_seed}: {total[0]:,} comparisons (single + batch) against {args.version}")
    print(f"  {changed:,} answered differently from the pin; the sandbox follows: {dict(follows) or '-'}")
    for kind, count in tally.most_common():
        print(f"  {kind}: {count:,}")
        print("    e.g.", json.dumps(examples[kind], ensure_ascii=True)[:1500])
    print(f"  field table: {len(field_lines)} change(s)")
    for line in field_lines:
        print("    " + line)
    return 0 if not changed and not field_lines else 1


if __name__ == "__main__":
    sys.exit(main())
