"""What `validate` and `audit` share: their input options made into the pipeline's
`IngestOptions` and `RecordsOptions`, in one place."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from auditor.errors import UsageError
from auditor.ingest.options import ReadOptions
from auditor.normalize.times import DstPolicy
from auditor.pipeline.options import IngestOptions, RecordsOptions
from auditor.schemas.checks import CURRENCY


class InputArgs(Protocol):
    """The options of a command that reads inputs (`validate`, `audit`)."""

    config: str | None
    format: str | None
    account: str | None
    currency: str | None
    cdr_format: str | None
    records: list[str] | None
    records_format: str | None
    exclude: list[str] | None
    encoding_fallback: str
    max_inflate: float
    tz: str | None
    dst: DstPolicy
    pbx_tz: str | None
    region: str
    trunk: list[str] | None


def ingest_options(args: InputArgs) -> IngestOptions:
    """How the inputs are read; `--currency` must be a currency code."""
    if args.currency is not None and not re.fullmatch(CURRENCY, args.currency):
        raise UsageError(
            f"--currency {args.currency!r}: not a currency code (3 capitals, e.g. USD)"
        )
    return IngestOptions(
        tz=args.tz,
        dst=args.dst,
        format=args.format,
        account=args.account,
        currency=args.currency,
        pbx_tz=args.pbx_tz,
        region=args.region,
        read=ReadOptions(
            cdr_format=args.cdr_format,
            encoding_fallback=args.encoding_fallback,
            max_inflate=args.max_inflate,
            exclude=tuple(args.exclude or ()),
        ),
        trunks=tuple(args.trunk or ()),
    )


def records_options(
    args: InputArgs,
    max_delay: int = 60,
    from_numbers: list[str] | None = None,
    directions: list[str] | None = None,
) -> RecordsOptions | None:
    """`--records` and its options, or None without them; --records needs --records-format."""
    if not args.records and args.records_format is None:
        return None
    if args.records_format is None:
        raise UsageError("--records needs --records-format FORMAT (a shipped name or a file)")
    return RecordsOptions(
        tuple(args.records or ()),
        args.records_format,
        max_delay,
        tuple(from_numbers or ()),
        tuple(directions or ()),
    )


def config_path(args: InputArgs) -> Path | None:
    """The settings file read (the --config given, or auditor.toml found here): the manifest
    hashes it with the inputs."""
    return Path(args.config) if args.config is not None else None
