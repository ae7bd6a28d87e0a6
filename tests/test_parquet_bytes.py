"""A streamed Parquet output has the same bytes however its rows reach the sink (one file, or
partitions merged back into order, as the Ray engine does): its row groups are fixed."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from auditor.report.tables import ROW_GROUP_ROWS, sink_parquet


def test_row_groups_do_not_follow_the_incoming_chunks(tmp_path: Path) -> None:
    n = 2 * ROW_GROUP_ROWS + 12_345
    rows = pl.DataFrame({"i": range(n)}).with_columns(
        pl.format("CA{}", pl.col("i")).alias("sid"), (pl.col("i") % 977).alias("seconds")
    )
    rows.write_parquet(tmp_path / "whole.parquet")
    for k in range(3):  # three partitions, each in order, of uneven sizes
        rows.filter(pl.col("i") % 7 % 3 == k).write_parquet(tmp_path / f"part{k}.parquet")
    merged = pl.scan_parquet(tmp_path / "part0.parquet")
    for k in (1, 2):
        merged = merged.merge_sorted(pl.scan_parquet(tmp_path / f"part{k}.parquet"), key="i")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    pl.collect_all([sink_parquet(pl.scan_parquet(tmp_path / "whole.parquet"), tmp_path / "a", "x")])
    pl.collect_all([sink_parquet(merged, tmp_path / "b", "x")])
    a, b = (tmp_path / "a" / "x.parquet"), (tmp_path / "b" / "x.parquet")
    assert a.read_bytes() == b.read_bytes()
    groups = pq.ParquetFile(a).metadata
    assert [groups.row_group(g).num_rows for g in range(groups.num_row_groups)] == [
        ROW_GROUP_ROWS,
        ROW_GROUP_ROWS,
        12_345,
    ]
