"""Read, normalise and validate every input: the shared first half of `validate` and `audit`.

Conservation holds per file and is asserted: rows read = rows accepted + rows rejected, where a row
is rejected once however many of its columns are bad. PBX CDR lines that were not UTF-8 (read with
`--encoding-fallback`) are counted, accepted or not, in `Ingested.encoding_fallback_rows`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl

from auditor.errors import UsageError
from auditor.ingest.base import ENCODING, SOURCE_FILE, Kind
from auditor.ingest.detect import detect
from auditor.ingest.files import check_encoding_fallback, expand_paths
from auditor.normalize.calls import normalize_calls, require_zone_for_naive
from auditor.normalize.cdr import check_pbx_zone, normalize_cdr
from auditor.normalize.rejects import KEY, REJECT_SCHEMA, drop_rejected, sort_rejects
from auditor.normalize.times import check_zone
from auditor.normalize.usage import normalize_usage
from auditor.pipeline.options import DEFAULT_FALLBACK, IngestOptions
from auditor.schemas import calls as call_schema
from auditor.schemas import usage as usage_schema
from auditor.validate.run import drop_duplicates, validate


@dataclass
class FileReport:
    file: str
    kind: str
    format: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Ingested:
    calls: pl.DataFrame
    usage: pl.DataFrame
    rejects: pl.DataFrame
    files: list[FileReport]
    dst: dict[str, object]
    extra: dict[Kind, pl.DataFrame] = field(default_factory=dict)
    # PBX CDR lines that were not UTF-8: the encoding they were read with, and how many input
    # lines (accepted or rejected) needed it.
    encoding_fallback: str = DEFAULT_FALLBACK
    encoding_fallback_rows: int = 0

    def encoding_summary(self) -> dict[str, object]:
        """summary.json's `encoding`: the fallback and how many PBX lines needed it."""
        return {"fallback": self.encoding_fallback, "rows": self.encoding_fallback_rows}


def _calls(raw: pl.LazyFrame, opts: IngestOptions) -> tuple[pl.DataFrame, pl.LazyFrame, dict]:
    require_zone_for_naive(raw, opts.tz)
    canonical, parse_rejects = normalize_calls(raw, opts.tz, opts.dst)
    parse_rejects = parse_rejects.collect().lazy()
    frame = canonical.collect()
    dst_counts = {
        "gap": frame.filter(pl.col("dst") == "dst-gap").height,
        "overlap": frame.filter(pl.col("dst") == "dst-overlap").height,
    }
    frame = drop_rejected(frame.lazy(), parse_rejects).collect()
    frame = _fill_account(frame, opts.account)
    accepted, schema_rejects = validate(frame, call_schema.CALL_SCHEMA, call_schema.SOURCE_NAMES)
    accepted, dup_rejects = drop_duplicates(accepted, ["call_sid"], "sid")
    return accepted, pl.concat([parse_rejects, schema_rejects, dup_rejects]), dst_counts


def _fill_account(frame: pl.DataFrame, account: str | None) -> pl.DataFrame:
    if account is None:
        return frame
    return frame.with_columns(pl.col("account_sid").fill_null(account))


def _usage(raw: pl.LazyFrame) -> tuple[pl.DataFrame, pl.LazyFrame]:
    canonical, parse_rejects = normalize_usage(raw)
    parse_rejects = parse_rejects.collect().lazy()
    frame = drop_rejected(canonical, parse_rejects).collect()
    accepted, schema_rejects = validate(frame, usage_schema.USAGE_SCHEMA, usage_schema.SOURCE_NAMES)
    accepted, dup_rejects = drop_duplicates(
        accepted, ["account_sid", "category", "start_date", "end_date"], "category"
    )
    return accepted, pl.concat([parse_rejects, schema_rejects, dup_rejects])


def ingest(paths: list[str], opts: IngestOptions) -> Ingested:
    """Every input file read once, normalised, validated; rejects and per-file counts.

    Call logs, usage records and PBX CDRs may come together; PBX rows grouped into one call are
    still counted one by one for conservation.
    """
    check_zone(opts.tz)
    check_pbx_zone(opts.pbx_tz)
    fallback = check_encoding_fallback(opts.read.encoding_fallback)
    files = expand_paths(paths)
    if not files:
        raise UsageError("no input files found in " + ", ".join(paths))
    raw: dict[str, list[pl.LazyFrame]] = {}
    reports: list[FileReport] = []
    for file in files:
        reader = detect(file, opts.format, opts.read.cdr_format, fallback)
        raw.setdefault(reader.kind, []).append(reader.read(file, opts.read))
        reports.append(FileReport(file.name, reader.kind, reader.name))

    empty_calls = pl.DataFrame(
        schema={k: v.type for k, v in call_schema.CALL_SCHEMA.dtypes.items()}
    )
    empty_usage = pl.DataFrame(
        schema={k: v.type for k, v in usage_schema.USAGE_SCHEMA.dtypes.items()}
    )
    rejects: list[pl.LazyFrame] = []
    calls, usage, dst = empty_calls, empty_usage, {"gap": 0, "overlap": 0}
    raw_frames: list[pl.LazyFrame] = []
    extra: dict[Kind, pl.DataFrame] = {}
    accepted_keys: list[pl.DataFrame] = []
    fallback_rows = 0
    for kind, frames in raw.items():
        # read each file once, whatever the later steps do
        lf = pl.concat(frames, how="vertical").collect().lazy()
        raw_frames.append(lf.select(KEY))
        if kind == "calls":
            calls, rej, dst = _calls(lf, opts)
        elif kind == "usage":
            usage, rej = _usage(lf)
        elif kind == "cdr":
            fallback_rows = lf.select(pl.col(ENCODING).is_not_null().sum()).collect().item()
            extra[kind], keys, rej = normalize_cdr(lf, opts)
            accepted_keys.append(keys.select(KEY))
        else:
            raise UsageError(f"inputs of kind {kind!r} are not supported by this command")
        rejects.append(rej)

    if calls["account_sid"].null_count() and not opts.account:
        accounts = usage["account_sid"].unique().drop_nulls()
        if accounts.len() == 1:
            calls = _fill_account(calls, accounts[0])
    all_rejects = sort_rejects(
        pl.concat(rejects) if rejects else pl.LazyFrame(schema=REJECT_SCHEMA)
    ).collect()
    _count(reports, pl.concat(raw_frames).collect(), [calls, usage, *accepted_keys], all_rejects)
    dst_summary = {"policy": str(opts.dst), "tz": opts.tz, **dst}
    if "cdr" in extra:  # accepted PBX calls converted with a note (rejected ones: rejects.csv)
        notes = extra["cdr"]["dst_note"]
        dst_summary |= {
            "pbx_tz": opts.pbx_tz,
            "pbx_gap": int((notes == "dst-gap").sum()),
            "pbx_overlap": int((notes == "dst-overlap").sum()),
        }
    return Ingested(
        calls,
        usage,
        all_rejects,
        reports,
        dst_summary,
        extra,
        encoding_fallback=fallback,
        encoding_fallback_rows=int(fallback_rows),
    )


def _count(
    reports: list[FileReport],
    raw: pl.DataFrame,
    accepted: list[pl.DataFrame],
    rejects: pl.DataFrame,
) -> None:
    def per_file(frame: pl.DataFrame) -> dict[str, int]:
        counts = frame.group_by(SOURCE_FILE).len()
        return dict(zip(counts[SOURCE_FILE].to_list(), counts["len"].to_list(), strict=True))

    read = per_file(raw)
    acc: dict[str, int] = {}
    for frame in accepted:
        for k, v in per_file(frame.select(KEY)).items():
            acc[k] = acc.get(k, 0) + v
    rej = per_file(rejects.select(KEY).unique())
    for r in reports:
        r.rows_read, r.rows_accepted, r.rows_rejected = (
            read.get(r.file, 0),
            acc.get(r.file, 0),
            rej.get(r.file, 0),
        )
        if r.rows_read != r.rows_accepted + r.rows_rejected:
            raise RuntimeError(
                f"conservation broken for {r.file}: read {r.rows_read}, accepted "
                f"{r.rows_accepted}, rejected {r.rows_rejected}"
            )
