"""Run the property tests of tests/test_fuzz.py at a large size and count what ran.

    python scripts/fuzz.py --examples 100000            # every property
    python scripts/fuzz.py --examples 5000 -k mime      # those whose name contains "mime"

The same properties as CI, only with `FUZZ_EXAMPLES` set before the module is imported (the
slow ones, which open a .docx per example, run a third as many). Prints, per property, the
examples run, the time taken and PASS or the falsifying example; exits 1 if any failed.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000, help="examples per property (default 100000)")
    parser.add_argument("-k", dest="match", default="", help="only properties whose name contains this")
    args = parser.parse_args(argv)

    os.environ["FUZZ_EXAMPLES"] = str(args.examples)
    sys.path.insert(0, str(ROOT))
    from tests import test_fuzz  # noqa: E402 - reads FUZZ_EXAMPLES at import

    properties = [(name, fn) for name, fn in vars(test_fuzz).items()
                  if name.startswith("test_") and callable(fn) and args.match in name]
    failed = 0
    total = 0
    print(f"{'property':<52} {'examples':>9} {'seconds':>8}  result")
    for name, fn in properties:
        before = sum(test_fuzz.RUNS.values())
        started = time.monotonic()
        try:
            fn()
            result = "PASS"
        except Exception:  # noqa: BLE001 - report the falsifying example and go on
            failed += 1
            result = "FAIL\n" + "".join(traceback.format_exc(limit=3))[-4000:]
        ran = sum(test_fuzz.RUNS.values()) - before
        total += ran
        print(f"{name:<52} {ran:>9} {time.monotonic() - started:>8.1f}  {result}", flush=True)
    print(f"{'total':<52} {total:>9}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
