"""Hostile inputs: `auditor audit` on mutated sample exports exits 0, 1 or 2, never a traceback,
and keeps rows read = accepted + rejected for every file it reads.

tests/mutate.py mutates one export (truncated lines, missing / extra / shuffled / duplicated
columns and headers, BOM, Latin-1, UTF-16 and NUL bytes, 1 MB fields, empty and header-only files,
truncated gzip, JSON cut mid-object, wrong types, dates out of range, negative and huge numbers)
and runs the audit in-process. Hypothesis draws the cases, derandomized: every run tries the same
300 (three tests of 100, spread over the cores by pytest-xdist), marked `fuzz`: plain `pytest`
(and .ci/run) runs them, `pytest -m "not fuzz"` leaves them out for a quick run.
`python benchmarks/fuzz.py --cases 10000` tries many more.
"""

from __future__ import annotations

import gzip
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from mutate import SOURCES, Case, Mutated, Source, check, mutate, no_debug_env

# 300 cases, in SHARDS tests of their own seed ranges, so that pytest-xdist spreads them over
# the cores (one hypothesis test runs on one worker).
SHARDS = 3
EXAMPLES = 100  # per shard


def _run(case: Case) -> None:
    with tempfile.TemporaryDirectory(prefix="auditor-fuzz-") as tmp, no_debug_env():
        outcome = check(case, Path(tmp))
    assert outcome.ok, (
        f"{case.source.name} seed {case.seed} [{outcome.mutation}] exit {outcome.exit_code}: "
        + "; ".join(outcome.problems)
        + (f"\n{outcome.detail[-3000:]}" if outcome.detail else "")
        + f"\nreplay: python benchmarks/fuzz.py --case {case.source.name}:{case.seed}"
    )


def _shard(index: int):
    """A test of EXAMPLES cases drawn from the index-th of SHARDS ranges of 32-bit seeds."""
    width = 2**32 // SHARDS
    seeds = st.integers(min_value=index * width, max_value=(index + 1) * width - 1)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        # no shrinking: a seed is a name for a mutation, a smaller seed is no simpler case
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(seed=seeds, source=st.sampled_from(SOURCES))
    def test(seed: int, source: Source) -> None:
        _run(Case(source, seed))

    test.__name__ = f"test_audit_survives_a_mutated_export_{index}"
    return pytest.mark.fuzz(test)


test_audit_survives_a_mutated_export_0 = _shard(0)
test_audit_survives_a_mutated_export_1 = _shard(1)
test_audit_survives_a_mutated_export_2 = _shard(2)
assert SHARDS == 3  # one line above per shard


@pytest.mark.parametrize("forced", [False, True], ids=["detected", "forced"])
@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_every_source_audits_cleanly_unmutated(source: Source, forced: bool) -> None:
    """The check itself: each source as it is reads whole (exit 0 or 1, conservation holds),
    its format detected beside its companions, or forced (`--format`) alone."""
    if forced and source.kind == "records":
        pytest.skip("records are read by --records-format, never detected")
    if forced and source.kind == "cdr":
        pytest.skip("PBX CDRs audited alone have no call logs to match: exit 2 by design")
    seed = next(s for s in range(100) if Case(source, s).forced == forced)
    with tempfile.TemporaryDirectory(prefix="auditor-fuzz-") as tmp, no_debug_env():
        unmutated = Mutated(source, seed, source.read(), "none")
        outcome = check(Case(source, seed), Path(tmp), unmutated)
    assert outcome.ok and outcome.exit_code in (0, 1), (outcome.problems, outcome.stderr)
    assert source.format in outcome.stdout


def test_mutator_is_deterministic_and_covers_the_issue_list() -> None:
    seen: Counter[str] = Counter()
    for source in SOURCES:
        for seed in range(24):
            first = mutate(source, seed)
            if seed < 3:
                assert mutate(source, seed).data == first.data, (source.name, seed)
            seen.update(first.mutation.split("+"))
            if "truncated-gzip" in first.mutation:
                with pytest.raises((EOFError, OSError)):
                    gzip.decompress(first.data)
    wanted = {
        "truncate-line",
        "drop-column",
        "extra-column",
        "shuffle-header",
        "duplicate-header",
        "bom",
        "latin-1",
        "utf-16",
        "nul",
        "big-field",
        "empty",
        "header-only",
        "truncated-gzip",
        "json-cut",
        "wrong-types-column",
        "wrong-types-record",
        "wrong-types-row",
        "bad-dates",
        "bad-numbers",
    }
    assert wanted <= set(seen), sorted(wanted - set(seen))


def test_in_process_runs_leave_no_state_behind() -> None:
    """A case gives the same answer before and after other cases in this process."""

    def answer(case: Case) -> tuple[int | None, str, bytes]:
        with tempfile.TemporaryDirectory(prefix="auditor-fuzz-") as tmp, no_debug_env():
            outcome = check(case, Path(tmp))
            summary = Path(tmp, "out", "summary.json")
            data = summary.read_bytes() if summary.exists() else b""
            return (
                outcome.exit_code,
                outcome.stdout.replace(tmp, "TMP"),
                data.replace(tmp.encode(), b"TMP"),
            )

    by_name = {s.name: s for s in SOURCES}
    first = Case(by_name["sample_exports/console_calls_2025-11_new_york.csv"], 7)
    before = answer(first)
    for source in ("sample_exports/pbx/asterisk/Master.csv", "builtin/freepbx_cdr.csv"):
        answer(Case(by_name[source], 3))
    assert answer(first) == before
