"""`--engine ray` gives the local engine's outputs byte for byte (summary.json but for its
`engine` key; manifest.json names the options, engine included): on the sample exports, on a
generated three-month account with calls at 23:59:59 on month ends and PBX calls, and on inputs
with rejects and duplicates across files. One local Ray for the whole session."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, run_cli

from auditor.pipeline import audit as audit_pipeline
from auditor.pipeline.runner import THREADS

ray = pytest.importorskip("ray", reason='Ray not installed: pip install ".[ray]"')
pytestmark = pytest.mark.xdist_group("ray")  # one worker, one local Ray (pyproject addopts)
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402

HEADER = (
    "Call Sid,Date Created,Start Time,End Time,Duration,From,To,Direction,Status,Price,"
    "Price Unit,Parent Call Sid"
)


def _row(
    n: int, start: str, end: str, seconds: str, status: str = "completed", to: str = "+16578139082"
) -> str:
    return (
        f"CA{n:032x},{start},{start},{end},{seconds},+12125550103,{to},"
        f"outbound-api,{status},-0.0140,USD,"
    )


# Month ends to the second (UTC offsets written out), a row that starts on the first second
# of a month, one with a bad duration (a reject) and a repeated SID (a duplicate in one file).
MONTH_ENDS = [
    HEADER,
    _row(1, "2025-01-31 23:59:59+00:00", "2025-02-01 00:01:00+00:00", "61"),
    _row(2, "2025-02-01 00:00:00+00:00", "2025-02-01 00:00:30+00:00", "30", to="+16578139083"),
    _row(3, "2025-02-28 23:59:59+00:00", "2025-03-01 00:00:09+00:00", "10"),
    _row(4, "2025-03-31 23:59:59+00:00", "2025-04-01 00:02:00+00:00", "121"),
    _row(5, "2025-03-31 23:59:59+00:00", "2025-03-31 23:59:59+00:00", "0", "no-answer"),
    _row(6, "2025-02-10 10:00:00+00:00", "2025-02-10 10:01:00+00:00", "sixty"),
    _row(1, "2025-01-31 23:59:59+00:00", "2025-02-01 00:01:00+00:00", "61"),
]


# An Asterisk line (New York time) whose call starts 2025-02-01 00:00:05 UTC: the PBX side of
# the first month-end leg above, which starts six seconds earlier, in January.
PBX_ACROSS_MONTHS = (
    '"","2017","+16578139082","from-internal","""Fay Brook"" <2017>","PJSIP/2017-00009000",'
    '"PJSIP/twilio-trunk-00009001","Dial","PJSIP/+16578139082@twilio-trunk,60,T",'
    '"2025-01-31 19:00:05","2025-01-31 19:00:07","2025-01-31 19:01:06",61,59,"ANSWERED",'
    '"DOCUMENTATION","1738368005.1","","","1738368005.2",9001'
)


@pytest.fixture(scope="session")
def local_ray():
    """One local Ray (2 CPUs, no dashboard, a small object store) for every test here."""
    if not ray.is_initialized():
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=100 * 1024 * 1024,
            logging_level="ERROR",
            log_to_driver=False,
        )
    yield ray
    ray.shutdown()


def _same_outputs(local: Path, other: Path, engine: str) -> None:
    names = sorted(p.name for p in local.iterdir())
    assert names == sorted(p.name for p in other.iterdir())
    assert "calls.parquet" in names
    for name in names:
        if name == "manifest.json":
            continue
        a, b = (local / name).read_bytes(), (other / name).read_bytes()
        if name == "summary.json":
            doc_a, doc_b = json.loads(a), json.loads(b)
            assert (doc_a.pop("engine"), doc_b.pop("engine")) == ("local", engine)
            assert doc_a == doc_b
            assert a.replace(b'"engine": "local"', f'"engine": "{engine}"'.encode()) == b
        else:
            assert a == b, name


def _both(tmp: Path, *args: str) -> tuple[int, int]:
    """The audit of args with each engine (in tmp/local and tmp/ray); both exit codes."""
    local = run_cli("audit", *args, "--out", str(tmp / "local"), "--quiet")
    other = run_cli(
        "audit", *args, "--out", str(tmp / "ray"), "--quiet", "--engine", "ray",
        "--work", str(tmp / "work"),
    )  # fmt: skip
    assert local.returncode in (0, 1), local.stderr
    assert other.returncode == local.returncode, other.stderr
    _same_outputs(tmp / "local", tmp / "ray", "ray")
    assert list((tmp / "work").iterdir()) == []  # the run's work folder is removed
    return local.returncode, other.returncode


def test_sample_exports_with_pbx_and_own_records(local_ray, tmp_path: Path) -> None:
    samples = ROOT / "sample_exports"
    codes = _both(
        tmp_path, str(samples), "--config", str(samples / "auditor.toml"),
        "--records", str(samples / "records" / "notifications_2025-11.csv"),
        "--records-format", "notification_log",
    )  # fmt: skip
    assert codes == (1, 1)
    assert (tmp_path / "ray" / "records_matches.csv").exists()


@pytest.fixture(scope="module")
def three_months(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three months of a generated account (Bulk Export and Console CSV: every call in two
    files, so every SID is a duplicate across files), its usage and PBX CDRs, and the
    month-end file above."""
    data = tmp_path_factory.mktemp("three-months")
    spec = generate.Spec(legs=3_000, months=3, formats=("bulk", "csv"), pbx=True, trunk_share=0.3)
    generate.generate(spec, data)
    (data / "csv" / "month_ends.csv").write_text("\n".join(MONTH_ENDS) + "\n", encoding="utf-8")
    across = data / "pbx" / "month_end" / "Master.csv"
    across.parent.mkdir(parents=True)
    across.write_text(PBX_ACROSS_MONTHS + "\n", encoding="utf-8")
    return data


def test_three_months_with_month_ends_rejects_duplicates_and_pbx(
    local_ray, three_months: Path, tmp_path: Path
) -> None:
    d = three_months
    codes = _both(
        tmp_path, str(d / "bulk_export"), str(d / "csv"), str(d / "usage" / "monthly"),
        str(d / "pbx"), "--pbx-tz", "America/New_York",
    )  # fmt: skip
    assert codes == (1, 1)
    summary = json.loads((tmp_path / "ray" / "summary.json").read_text(encoding="utf-8"))
    months = {r["period"] for r in summary["reconciliation"]}
    assert {"2025-01", "2025-02", "2025-03"} <= months
    rejects = (tmp_path / "ray" / "rejects.csv").read_text(encoding="utf-8")
    assert "duplicate of" in rejects and "month_ends.csv" in rejects
    inputs = {i["file"]: i for i in summary["inputs"]}
    month_ends = next(v for k, v in inputs.items() if k.endswith("month_ends.csv"))
    assert (month_ends["rows_read"], month_ends["rows_rejected"]) == (7, 2)
    # the PBX call of February 1st is matched with its leg of January 31st, across partitions
    matches = pl.read_csv(tmp_path / "ray" / "cdr_matches.csv", infer_schema=False)
    across = matches.filter(pl.col("pbx_source_file").str.contains("month_end"))
    assert across.select("call_sid", "match_status").rows() == [(f"CA{1:032x}", "matched")]


def test_partitioned_flow_on_threads_is_the_local_engine(
    three_months: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The partitioned flow itself, on this process's threads: the same outputs."""
    monkeypatch.setattr(audit_pipeline, "_runner", lambda _audit: THREADS)
    d = three_months
    _both(tmp_path, str(d / "bulk_export"), str(d / "csv"), str(d / "usage" / "monthly"))


def test_without_ray_installed_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    samples = ROOT / "sample_exports"
    proc = run_cli(
        "audit", str(samples / "api_calls_2025-11_page0.json"), "--out", str(tmp_path / "o"),
        "--account", "AC0123456789abcdef0123456789abcdef", "--engine", "ray",
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "auditor: error: --engine ray needs Ray, which is not installed: pip install "
        '"call-auditor[ray]"'
    ]
    assert not (tmp_path / "o").exists()


def test_an_unreadable_input_is_the_same_one_line_error(local_ray, tmp_path: Path) -> None:
    """An InputError raised in a Ray task comes back as itself: same line, same exit code."""
    (tmp_path / "calls.json.gz").write_bytes(gzip.compress(b'{"sid": "CA1"}\n' * 50)[:40])
    lines = []
    for engine in ("local", "ray"):
        proc = run_cli(
            "audit", "calls.json.gz", "--out", f"out-{engine}", "--engine", engine,
            "--account", "AC0123456789abcdef0123456789abcdef", cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 2
        assert not (tmp_path / f"out-{engine}").exists()
        lines.append(proc.stderr.strip().splitlines())
    assert lines[0] == lines[1] and len(lines[0]) == 1
    assert lines[0][0].startswith("auditor: error: calls.json.gz: corrupt gzip data")
