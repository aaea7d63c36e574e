"""A long differential soak: many more generated cases than CI runs, against the published destination.

    python bench/differential_soak.py [--cases N] [--seconds S] [--seed K] [--save]

Runs the strategies of the differential tests (tests/reference_strategies.py) with a random seed,
each case in single and batch mode on both sides, and prints the agreement figures (cases, requests,
agreement in per cent) and the cases/s against the reference alone. A counterexample is shrunk by
Hypothesis and printed; with --save it is appended to tests/reference/regressions.json, which
tests/test_reference.py replays (give it a `why` there when you fix the cause).

Needs node and `npm ci --prefix tests/reference`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]  # the tests' helpers and the project

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from reference_strategies import cases  # noqa: E402
from reference_support import (  # noqa: E402
    CASES_FILE,
    Reference,
    agree,
    ask_case,
    missing_reason,
    sandbox_outcome,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000, help="generated cases (default 20,000)")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: random)")
    parser.add_argument("--save", action="store_true", help="append a counterexample to the regression file")
    args = parser.parse_args(argv)
    reason = missing_reason()
    if reason is not None:
        print(f"differential_soak: {reason}", file=sys.stderr)
        return 2
    chosen_seed = args.seed if args.seed is not None else random.randrange(2**32)
    reference = Reference()
    counts = {"cases": 0, "comparisons": 0, "requests": 0, "errors": 0, "agreed": 0}
    timing = {"reference": 0.0, "sandbox": 0.0}
    started = time.perf_counter()
    failure: dict[str, Any] = {}

    @seed(chosen_seed)
    @settings(
        max_examples=args.cases,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=cases(mode="single"))
    def soak(case: dict[str, Any]) -> None:
        if args.seconds is not None and time.perf_counter() - started > args.seconds:
            return
        counts["cases"] += 1
        for mode in ("single", "batch"):
            one = {**case, "mode": mode}
            t0 = time.perf_counter()
            want = ask_case(reference, one)
            t1 = time.perf_counter()
            got = sandbox_outcome(one)
            timing["reference"] += t1 - t0
            timing["sandbox"] += time.perf_counter() - t1
            counts["comparisons"] += 1
            for entry in want:
                counts["requests"] += len(entry.get("requests", []))
                counts["errors"] += int(entry.get("error") is not None) + len(entry.get("errors", {}))
            if agree(want, got):
                counts["agreed"] += 1
            else:
                failure.update(case=one, want=want, got=got)
                raise AssertionError("the sandbox differs from the reference")

    try:
        soak()
        status = 0
    except AssertionError:
        status = 1
    finally:
        reference.close()
    elapsed = time.perf_counter() - started
    share = 100.0 * counts["agreed"] / counts["comparisons"] if counts["comparisons"] else 100.0
    print(
        f"seed {chosen_seed}: {counts['cases']:,} cases, {counts['comparisons']:,} comparisons (single + batch)"
    )
    print(f"  reference requests {counts['requests']:,}, reference errors {counts['errors']:,}")
    print(f"  agreement {counts['agreed']:,}/{counts['comparisons']:,} = {share:.2f}% (byte for byte)")
    ratio = timing["sandbox"] / timing["reference"] if timing["reference"] else float("nan")
    print(
        f"  {elapsed:.1f}s; sandbox time / reference time = {ratio:.3f} (the peer measured in the same run)"
    )
    if failure:
        print("counterexample (shrunk):")
        print(json.dumps(failure["case"], ensure_ascii=True))
        for want, got in zip(failure["want"], failure["got"], strict=False):
            if want != got:
                print("  reference:", json.dumps(want, ensure_ascii=True)[:2000])
                print("  sandbox:  ", json.dumps(got, ensure_ascii=True)[:2000])
        if args.save:
            data = json.loads(CASES_FILE.read_text(encoding="utf-8"))
            data["cases"].append({"why": f"soak seed {chosen_seed}", **failure["case"]})
            CASES_FILE.write_text(json.dumps(data, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
            print(f"saved to {CASES_FILE.relative_to(ROOT)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
