"""Decide each file's format from its content, never its name (or take `--format NAME`)."""

from __future__ import annotations

from auditor.errors import InputError, UsageError
from auditor.ingest import registry
from auditor.ingest.base import Reader
from auditor.ingest.files import InputFile
from auditor.ingest.pbx_custom import CustomCdrCsv, sniff_with
from auditor.ingest.pbx_format_file import load_cdr_format


def detect(file: InputFile, forced: str | None = None, cdr_format: str | None = None) -> Reader:
    """The reader for `file`; InputError (exit 2) when no known format matches.

    With `cdr_format` (a user's `--cdr-format` file) a file whose header fits that description is
    read by it, before the built-in readers are tried.
    """
    if forced is not None:
        reader = registry.by_name(forced)
        if reader is None:
            known = ", ".join(registry.reader_names())
            raise UsageError(f"--format {forced!r} is not a known format (known: {known})")
        return reader
    head = "" if file.is_parquet else file.head_text()
    if not file.is_parquet and not head.strip():
        raise InputError(file.name, "file is empty")
    if (
        cdr_format is not None
        and not file.is_parquet
        and sniff_with(head, load_cdr_format(cdr_format))
    ):
        return CustomCdrCsv()
    for reader in registry.READERS:
        if reader.sniff(file, head):
            return reader
    raise InputError(
        file.name, "unsupported format: not a Twilio call-log / usage export or a known PBX CDR"
    )
