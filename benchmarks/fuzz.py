#!/usr/bin/env python3
"""Fuzz `auditor audit` with mutated sample exports: thousands of cases, each checked in-process.

Each case is a source export (sample_exports/, tests/fixtures/ or a built-in one) and a seed;
tests/mutate.py turns them into hostile bytes and runs the audit on them (with the sample's usage
records beside a call log, a sample call log beside a PBX file). A case fails when the audit exits
outside {0, 1, 2}, shows a traceback or an internal error, exits 2 without one error line, or
writes a summary.json that breaks rows read = accepted + rejected for a file or leaves the input
out. tests/test_fuzz.py runs a few hundred such cases on every test run; this runs many more.

Cases run in worker processes (`--jobs`), each looping in-process; a worker that crashes, hangs
(`--timeout`) or grows past `--max-rss-gib` of resident memory (so that a memory bomb fails its
case rather than bringing the OOM killer to a shared machine) is replaced and its case counted as
failed. Every failing input is written to
`--failures DIR/<index>-<seed>/` with `case.json` (source, seed, mutation, the audit's arguments,
its output and traceback); `--replay DIR/<index>-<seed>` runs one again with AUDITOR_DEBUG=1, as
`--case SOURCE:SEED` does a case tests/test_fuzz.py reports.

Usage: python benchmarks/fuzz.py [--cases 10000] [--seed S] [--jobs N] [--source NAME]
       [--failures DIR] [--timeout SECONDS] [--max-rss-gib G]
       python benchmarks/fuzz.py --replay DIR | --case SOURCE:SEED
Prints how many cases ran and failed, each failure (index, seed, source, mutation, first line of
the error) and the failures grouped by that line; exits 1 if any case failed.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from mutate import (  # noqa: E402
    BY_NAME,
    SOURCES,
    Case,
    Mutated,
    Outcome,
    case_for,
    check,
    mutate,
    no_debug_env,
)

DEFAULT_FAILURES = ROOT / "benchmarks" / "data" / "fuzz-failures"


def _argv(case: Case) -> str:
    companions = [str(c.relative_to(ROOT)) for c in case.companions()]
    return "auditor audit " + " ".join(
        [case.source.filename, *companions, "--out OUT", *case.options()]
    )


def _save_failure(
    case: Case, index: int, folder: Path, mutated: Mutated, outcome: Outcome | None, why: str = ""
) -> Path:
    """The failing input and case.json (what `--replay` reads) in folder/<index>-<seed>/."""
    where = folder / f"{index:06d}-{case.seed}"
    where.mkdir(parents=True, exist_ok=True)
    (where / case.source.filename).write_bytes(mutated.data)
    info: dict[str, object] = {
        "index": index,
        "source": case.source.name,
        "seed": case.seed,
        "mutation": mutated.mutation,
        "options": case.options(),
        "argv": _argv(case),
    }
    if outcome is not None:
        info |= {
            "exit_code": outcome.exit_code,
            "problems": outcome.problems,
            "traceback": outcome.detail,
            "stdout_tail": outcome.stdout[-3000:],
            "stderr_tail": outcome.stderr[-3000:],
        }
    else:
        info["problems"] = [why]
    (where / "case.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return where


def worker(args: argparse.Namespace) -> int:
    """Run cases start, start+step, ... < stop; one JSON line per case start and result."""
    failures = Path(args.failures)
    only = BY_NAME[args.source] if args.source else None
    with tempfile.TemporaryDirectory(prefix="auditor-fuzz-") as tmp, no_debug_env():
        for index in range(args.start, args.stop, args.step):
            case = case_for(args.seed, index)
            if only is not None:
                case = Case(only, case.seed)
            print(json.dumps({"start": index}), flush=True)
            began = time.perf_counter()
            work = Path(tmp) / str(index)
            try:
                mutated = mutate(case.source, case.seed)
            except Exception as exc:  # the fuzzer's own bug: say so, and go on
                print(json.dumps(_mutator_error(index, case, exc)), flush=True)
                continue
            outcome = check(case, work, mutated)
            result = {
                "index": index,
                "source": case.source.name,
                "seed": case.seed,
                "mutation": outcome.mutation,
                "exit_code": outcome.exit_code,
                "problems": outcome.problems,
                "seconds": round(time.perf_counter() - began, 4),
                "stderr": outcome.stderr.strip().split("\n", 1)[0][:200],
            }
            if not outcome.ok:
                result["saved"] = str(_save_failure(case, index, failures, mutated, outcome))
            shutil.rmtree(work, ignore_errors=True)
            print(json.dumps(result), flush=True)
    return 0


def _mutator_error(index: int, case: Case, exc: Exception) -> dict:
    return {
        "index": index,
        "source": case.source.name,
        "seed": case.seed,
        "mutation": "?",
        "exit_code": None,
        "problems": [f"mutator error (tests/mutate.py, not the auditor): {exc!r}"[:300]],
        "seconds": 0.0,
    }


class _Results(list):
    """The results so far; each also appended to `--log` as it comes (JSON lines), so that a run
    cut short still leaves them."""

    def __init__(self, log: Path | None) -> None:
        super().__init__()
        self.log = log.open("w", encoding="utf-8") if log else None

    def append(self, item: dict) -> None:
        super().append(item)
        if self.log:
            self.log.write(json.dumps(item) + "\n")
            self.log.flush()


class Worker:
    """One worker process and the cases it still owes."""

    def __init__(self, args: argparse.Namespace, start: int, step: int, lines: queue.Queue) -> None:
        self.start, self.step, self.current, self.since = start, step, None, time.monotonic()
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            "--start",
            str(start),
            "--stop",
            str(args.cases),
            "--step",
            str(step),
            "--seed",
            str(args.seed),
            "--failures",
            str(args.failures),
        ]
        if args.source:
            cmd += ["--source", args.source]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
        self.stderr: list[str] = []
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    def _read(self, lines: queue.Queue) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            lines.put((self, line))
        lines.put((self, None))

    def rss_bytes(self) -> int:
        """The worker's resident memory now (Linux /proc; 0 where there is none)."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            del self.stderr[:-20]


def parent(args: argparse.Namespace) -> int:
    lines: queue.Queue = queue.Queue()
    jobs = max(1, min(args.jobs, args.cases))
    workers = {Worker(args, k, jobs, lines) for k in range(jobs)}
    results = _Results(args.log)
    began = time.perf_counter()
    last_report = began

    def lost(w: Worker, why: str) -> None:
        index = w.current
        case = case_for(args.seed, index)
        if args.source:
            case = Case(BY_NAME[args.source], case.seed)
        tail = "".join(w.stderr).strip().splitlines()[-1:] or [""]
        result = {
            "index": index,
            "source": case.source.name,
            "seed": case.seed,
            "mutation": "?",
            "exit_code": None,
            "problems": [f"worker {why}: {tail[0]}"],
            "seconds": round(time.monotonic() - w.since, 4),
        }
        try:  # the case again, to save its input (the mutation is cheap; the audit is not run)
            mutated = mutate(case.source, case.seed)
            result["mutation"] = mutated.mutation
            saved = _save_failure(case, index, args.failures, mutated, None, result["problems"][0])
            result["saved"] = str(saved)
        except Exception:  # the mutator's own failure is reported by the worker
            pass
        results.append(result)
        workers.discard(w)
        if index + w.step < args.cases:  # a new worker takes the cases after the lost one
            workers.add(Worker(args, index + w.step, w.step, lines))

    max_rss = int(args.max_rss_gib * 2**30)

    def watch() -> None:
        """Kill a worker whose case runs too long or takes too much memory (a memory bomb must
        fail its case, not bring the OOM killer to the machine)."""
        for w in list(workers):
            if w.current is None:
                continue
            why = None
            if time.monotonic() - w.since > args.timeout:
                why = f"timed out after {args.timeout} s"
            elif (rss := w.rss_bytes()) > max_rss:
                why = f"memory past {args.max_rss_gib} GiB (resident {rss / 2**30:.1f} GiB)"
            if why:
                w.proc.kill()
                w.proc.wait()
                lost(w, why)

    while workers:
        watch()
        try:
            w, line = lines.get(timeout=0.05)
        except queue.Empty:
            continue
        if w not in workers:
            continue
        if line is None:
            code = w.proc.wait()
            if w.current is not None:
                lost(w, f"died (exit {code})")
            else:
                workers.discard(w)
                if code:
                    sys.stderr.write("".join(w.stderr))
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            continue  # something printed to the real stdout; not ours
        if "start" in msg:
            w.current, w.since = msg["start"], time.monotonic()
            continue
        w.current = None
        results.append(msg)
        if time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            bad = sum(1 for r in results if r["problems"])
            print(f"... {len(results)}/{args.cases} cases, {bad} failed", file=sys.stderr)

    elapsed = time.perf_counter() - began
    return report(results, elapsed, args)


def report(results: list[dict], elapsed: float, args: argparse.Namespace) -> int:
    results.sort(key=lambda r: r["index"])
    failed = [r for r in results if r["problems"]]
    per_case = sum(r["seconds"] for r in results) / max(len(results), 1)
    exits = Counter(r["exit_code"] for r in results)
    print(
        f"ran {len(results)} case(s) in {elapsed:.1f} s ({per_case * 1000:.0f} ms per case, "
        f"{args.jobs} job(s)), seed {args.seed}: {len(failed)} failed"
    )
    print("exit codes: " + ", ".join(f"{k}: {v}" for k, v in sorted(exits.items(), key=str)))
    for r in failed:
        print(
            f"FAIL #{r['index']} seed {r['seed']} {r['source']} [{r['mutation']}] "
            f"exit {r['exit_code']}: {r['problems'][0].splitlines()[0][:300]}"
        )
        if r.get("saved"):
            print(f"     saved: {r['saved']}")
    missing = args.cases - len(results)
    if missing:  # a worker that exited between cases (an import error, say) left them
        print(f"{missing} case(s) never ran: a worker exited early (see its stderr above)")
    if failed:
        print("\nfailures by first line:")
        classes = Counter(r["problems"][0].splitlines()[0][:160] for r in failed)
        for line, n in classes.most_common():
            print(f"{n:>6}  {line}")
    return 1 if failed or missing else 0


def replay(folder: Path | None, one: str | None = None) -> int:
    """Run a saved failing case (or `one`: SOURCE:SEED) again, in this process, with
    AUDITOR_DEBUG=1 (tracebacks)."""
    if folder is not None:
        info = json.loads((folder / "case.json").read_text(encoding="utf-8"))
        source = BY_NAME[info["source"]]
        mutated = Mutated(
            source, info["seed"], (folder / source.filename).read_bytes(), info["mutation"]
        )
    else:
        name, _, seed = (one or "").rpartition(":")
        source = BY_NAME[name]
        mutated = mutate(source, int(seed))
    case = Case(source, mutated.seed)
    print(f"{source.name} seed {case.seed} [{mutated.mutation}]: {' '.join(case.options())}")
    with tempfile.TemporaryDirectory(prefix="auditor-replay-") as tmp:
        os.environ["AUDITOR_DEBUG"] = "1"
        outcome = check(case, Path(tmp), mutated)
    print(f"exit {outcome.exit_code}")
    print(outcome.stdout[-2000:])
    print(outcome.stderr[-4000:], file=sys.stderr)
    if outcome.detail:
        print(outcome.detail, file=sys.stderr)
    for p in outcome.problems:
        print("PROBLEM:", p)
    return 0 if outcome.ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--source", choices=[s.name for s in SOURCES], help="only this source")
    ap.add_argument("--failures", type=Path, default=DEFAULT_FAILURES)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds one case may take")
    ap.add_argument(
        "--max-rss-gib",
        type=float,
        default=3.0,
        help="resident memory a worker may reach (polled every 50 ms): past it the case fails",
    )
    ap.add_argument("--replay", type=Path, help="run one saved failing case again")
    ap.add_argument("--case", help="run one case again: SOURCE:SEED (as test_fuzz.py names it)")
    ap.add_argument("--log", type=Path, help="write every case's result here (JSON lines)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--stop", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--step", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.replay or args.case:
        return replay(args.replay, args.case)
    if args.worker:
        return worker(args)
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
