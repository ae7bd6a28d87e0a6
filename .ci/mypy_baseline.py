"""mypy over auditor/ ([tool.mypy] in pyproject.toml), held to a baseline that may only shrink.

Each error is compared as `path: error: message  [code]`, its line number left out, so that an
edit above an error does not move it out of the baseline. Fails on an error the baseline does
not list (a new one), and on a listed one that mypy no longer finds (fixed: its line comes out of
the baseline, so that it cannot come back). An empty baseline is zero errors.

Usage: python .ci/mypy_baseline.py  (in the repository root; runs `python -m mypy`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

BASELINE = Path(__file__).with_name("mypy-baseline.txt")
_ERROR = re.compile(r"^(?P<path>[^:\s]+\.pyi?):\d+(?::\d+)?: error: (?P<message>.*)$")


def found(output: str) -> Counter[str]:
    """mypy's errors in `output`, without line numbers (its notes and summary left out)."""
    matches = (_ERROR.match(line) for line in output.splitlines())
    return Counter(f"{m['path']}: error: {m['message']}" for m in matches if m)


def listed(text: str) -> Counter[str]:
    """The baseline's errors: one a line; blank lines and `#` comments left out."""
    lines = (line.strip() for line in text.splitlines())
    return Counter(line for line in lines if line and not line.startswith("#"))


def main() -> int:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-pretty", "--no-color-output"],
        capture_output=True,
        text=True,
    )
    if run.returncode not in (0, 1):  # 2: mypy itself failed (a bad config, a crash)
        sys.stdout.write(run.stdout + run.stderr)
        return run.returncode
    now, allowed = found(run.stdout), listed(BASELINE.read_text(encoding="utf-8"))
    new, fixed = now - allowed, allowed - now
    for error in sorted(new.elements()):
        print(f"mypy: new error (fix it; the baseline may only shrink): {error}")
    for error in sorted(fixed.elements()):
        print(f"mypy: fixed, take this line out of {BASELINE.name}: {error}")
    print(f"mypy: {sum(now.values())} errors, {sum(allowed.values())} in {BASELINE.name}")
    return 1 if new or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
