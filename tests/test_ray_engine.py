"""`--engine ray` gives the local engine's outputs byte for byte (summary.json but for its
`engine` key; manifest.json names the options, engine included): on the sample exports, on a
generated three-month account with calls at 23:59:59 on month ends and PBX calls, and on inputs
with rejects and duplicates across files. One local Ray for the whole session."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, run_cli, run_cli_process

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
    files, so every SID is a duplicate across files), its usage and PBX CDRs, the month-end
    file above, and a fourth month of usage without calls."""
    data = tmp_path_factory.mktemp("three-months")
    spec = generate.Spec(legs=3_000, months=3, formats=("bulk", "csv"), pbx=True, trunk_share=0.3)
    generate.generate(spec, data)
    (data / "csv" / "month_ends.csv").write_text("\n".join(MONTH_ENDS) + "\n", encoding="utf-8")
    # a month of usage with no call logged in it: a partition of usage only
    march = (data / "usage" / "monthly" / "2025-03.json").read_text(encoding="utf-8")
    april = march.replace("2025-03-31", "2025-04-30").replace("2025-03-01", "2025-04-01")
    (data / "usage" / "monthly" / "2025-04.json").write_text(april, encoding="utf-8")
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
    assert {"2025-01", "2025-02", "2025-03", "2025-04"} <= months
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


@pytest.fixture(scope="module")
def object_store() -> dict[str, str]:
    """An S3 endpoint on this machine (moto's server), and the environment that points polars,
    s3fs and boto3 at it."""
    pytest.importorskip("moto", reason='moto not installed: pip install ".[test]"')
    pytest.importorskip("s3fs", reason='s3fs not installed: pip install ".[ray]"')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                pytest.fail("moto's S3 server did not start")
            time.sleep(0.2)
    yield {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    server.terminate()
    server.wait(timeout=10)


def test_work_in_an_object_store(
    object_store: dict[str, str],
    three_months: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--work s3://...: a real `auditor` process with its own local Ray, its tasks writing and
    reading their Parquet in a bucket; the same outputs, and nothing left in the bucket."""
    import boto3

    for key, value in object_store.items():
        monkeypatch.setenv(key, value)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="auditor-work")
    # versions outlive the deletes: what the tasks wrote can be told afterwards
    s3.put_bucket_versioning(Bucket="auditor-work", VersioningConfiguration={"Status": "Enabled"})
    d = three_months
    args = [str(d / "bulk_export"), str(d / "csv"), str(d / "usage" / "monthly"), str(d / "pbx")]
    args += ["--pbx-tz", "America/New_York", "--quiet"]
    local = run_cli("audit", *args, "--out", str(tmp_path / "local"))
    remote = run_cli_process(
        "audit", *args, "--out", str(tmp_path / "ray"), "--engine", "ray",
        "--work", "s3://auditor-work/runs",
    )  # fmt: skip
    assert (local.returncode, remote.returncode) == (1, 1), remote.stderr
    _same_outputs(tmp_path / "local", tmp_path / "ray", "ray")
    written = {
        v["Key"].split("/")[2]
        for page in s3.get_paginator("list_object_versions").paginate(Bucket="auditor-work")
        for v in page.get("Versions", [])
    }
    assert {"partitions", "sids", "pbx"} <= written, written
    assert s3.list_objects_v2(Bucket="auditor-work").get("KeyCount") == 0  # none of it is left
    # the tasks did go to the store: without its bucket the run stops before it starts
    missing = run_cli(
        "audit", *args, "--out", str(tmp_path / "x"), "--engine", "ray",
        "--work", "s3://no-such-bucket/runs",
    )  # fmt: skip
    assert missing.returncode == 2 and not (tmp_path / "x").exists()
    assert missing.stderr.splitlines() == [
        "auditor: error: --work s3://no-such-bucket/runs: no bucket or container "
        "'no-such-bucket' there"
    ]


def test_progress_counts_tasks_done_of_total(local_ray, tmp_path: Path) -> None:
    """With Ray, the stages after reading count tasks: one per file, then one per partition."""
    from test_progress import Recorder

    from auditor.pipeline.audit import run_audit
    from auditor.pipeline.options import (
        STAGE_CLASSIFY,
        STAGE_READ,
        STAGE_SPLIT,
        AuditOptions,
        Engine,
        EngineOptions,
        IngestOptions,
    )

    seen = Recorder()
    samples = ROOT / "sample_exports"
    paths = [str(samples / "bulk_export"), str(samples / "calls_2025-11-24_to_30.parquet")]
    paths.append(str(samples / "usage" / "2025-11_monthly.json"))
    audit = AuditOptions(engine=EngineOptions(Engine.RAY))
    opts = IngestOptions(account="AC5f1a9e0c7b3d24e6a8f0b1c2d3e4f5a6")
    result = run_audit(paths, tmp_path / "o", opts, audit, progress=seen)
    totals = dict(seen.stages)
    assert totals[STAGE_READ] == seen.steps[STAGE_READ] == 10  # 8 day files, Parquet, usage
    assert totals[STAGE_SPLIT] == seen.steps[STAGE_SPLIT] == 9  # one per call-log file
    # one per account and UTC month of the legs (the usage is of a month with legs)
    moment = pl.coalesce("start_time_utc", "end_time_utc").dt.strftime("%Y-%m")
    months = result.legs.select("account_sid", moment.alias("m")).unique().height
    assert totals[STAGE_CLASSIFY] == seen.steps[STAGE_CLASSIFY] == months
