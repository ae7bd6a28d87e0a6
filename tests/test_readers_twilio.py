"""Each Twilio reader on the real twilio-python payloads (tests/fixtures/twilio)."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import polars as pl

from auditor.ingest.detect import detect
from auditor.ingest.files import InputFile
from auditor.pipeline.ingest import ingest
from auditor.pipeline.options import IngestOptions


def _file(path: Path) -> InputFile:
    return InputFile(path, str(path))


def test_calls_page_detected_and_read(fixtures: Path) -> None:
    path = fixtures / "twilio" / "twilio-python_call_read_full_page1.json"
    reader = detect(_file(path))
    assert reader.name == "twilio-api-calls"
    raw = reader.read(_file(path), None).collect()  # type: ignore[arg-type]
    first = raw.row(0, named=True)
    assert first["sid"] == "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    assert first["start_time"] == "Fri, 18 Oct 2019 17:02:00 +0000"
    assert raw["source_row"].to_list() == list(range(1, raw.height + 1))


def test_calls_page_canonical_values(fixtures: Path) -> None:
    ing = ingest(
        [str(fixtures / "twilio" / "twilio-python_call_read_full_page1.json")], IngestOptions()
    )
    row = ing.calls.collect().row(0, named=True)
    assert row["start_time_utc"].isoformat() == "2019-10-18T17:02:00+00:00"
    assert row["duration_s"] == 4
    assert row["price"] == Decimal("-0.2")
    assert row["price_unit"] == "USD"
    assert row["source_row"] == 1


def test_usage_pages_every_shape(fixtures: Path) -> None:
    for name in ("", "_daily", "_monthly"):
        path = fixtures / "twilio" / f"twilio-python_usage_records{name}_read_full.json"
        assert detect(_file(path)).name == "twilio-api-usage"
        ing = ingest([str(path)], IngestOptions())
        assert ing.usage.height == 1
    daily = ingest(
        [str(fixtures / "twilio" / "twilio-python_usage_records_daily_read_full.json")],
        IngestOptions(),
    ).usage.row(0, named=True)
    assert daily["category"] == "sms-inbound-shortcode"
    assert str(daily["start_date"]) == "2015-09-06"


def test_usage_count_may_be_null(fixtures: Path) -> None:
    ing = ingest(
        [str(fixtures / "twilio" / "twilio-python_usage_records_read_full.json")], IngestOptions()
    )
    row = ing.usage.row(0, named=True)
    assert row["category"] == "totalprice" and row["count"] is None
    assert row["price"] == Decimal("2192.84855") and row["price_unit"] == "USD"


def test_bulk_export_gz_jsonl(tmp_path: Path, fixtures: Path) -> None:
    calls = json.loads((fixtures / "twilio" / "calls_api_list.json").read_text())["calls"][2:5]
    lines = []
    for c in calls:  # Bulk Export: ISO 8601 times, no uri/subresource_uris, numbers may be numbers
        rec = {k: v for k, v in c.items() if k not in ("uri", "subresource_uris")}
        rec["start_time"] = "2025-02-03T14:05:01Z"
        rec["end_time"] = "2025-02-03T14:07:11.000Z"
        rec["duration"] = int(rec["duration"])
        lines.append(json.dumps(rec))
    path = tmp_path / "2025-02-03"  # no extension: detection is by content
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    assert detect(_file(path)).name == "twilio-bulk-export"
    ing = ingest([str(path)], IngestOptions())
    assert ing.calls.collect()["source_row"].to_list() == [1, 2, 3]
    assert ing.calls.collect()["duration_s"].to_list() == [130, 118, 47]
    assert ing.calls.collect()["start_time_utc"].dt.hour().to_list() == [14, 14, 14]


def test_parquet_calls(tmp_path: Path, fixtures: Path) -> None:
    calls = json.loads((fixtures / "twilio" / "calls_api_list.json").read_text())["calls"]
    frame = pl.DataFrame(
        [
            {
                k: c[k]
                for k in (
                    "sid",
                    "account_sid",
                    "from",
                    "to",
                    "direction",
                    "status",
                    "start_time",
                    "end_time",
                    "duration",
                    "price",
                    "price_unit",
                )
            }
            for c in calls
        ]
    )
    path = tmp_path / "calls.parquet"
    frame.write_parquet(path)
    assert detect(_file(path)).name == "twilio-calls-parquet"
    ing = ingest([str(path)], IngestOptions())
    assert ing.calls.collect().height == 13
    assert ing.files[0].rows_read == 13


def test_a_page_where_a_call_belongs_is_one_reject(fixtures: Path) -> None:
    """Record 2 of this Calls page is itself a page (`calls`, paging keys): one reject of it,
    `(record)`, saying so; record 1 is read. Rows read = accepted + rejected."""
    path = fixtures / "twilio" / "calls_page_in_page.json"
    ing = ingest([str(path)], IngestOptions())
    assert ing.calls.collect()["source_row"].to_list() == [1]
    assert ing.rejects.select("source_row", "column", "reason").rows() == [
        (2, "(record)", "not a call record (an object holding a page)")
    ]
    (report,) = ing.files
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (2, 1, 1)
