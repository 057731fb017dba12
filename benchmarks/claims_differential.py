"""Long run of the differential claim test: peft judges every claim peftlint makes on many more
drawn models and configs than the suite's budget allows.

    python benchmarks/claims_differential.py [--examples N]

Runs tests/semantics/test_claims_differential.py with ``PEFTLINT_CLAIMS_EXAMPLES=N`` (default
3000; the suite uses 100 custom-model examples and an eighth as many per bundled model). The draws
stay deterministic (derandomized); a larger N reaches further cases. Prints pytest's report; the
first disagreement is shrunk to a minimal model and config.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=3000)
    args = ap.parse_args()
    env = dict(os.environ, PEFTLINT_CLAIMS_EXAMPLES=str(args.examples))
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--durations=5",
           str(ROOT / "tests" / "semantics" / "test_claims_differential.py")]
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
