"""Decide each file's format from its content, never its name (or take `--format NAME`).

A file that is not UTF-8 can only be a PBX CDR file (PBXs write caller-ID names as raw bytes; such
lines are decoded with `--encoding-fallback`): its head is decoded that way and only the PBX readers
are tried. When none of them recognises it, the run stops with the plain "not UTF-8" error, which is
what a Twilio export (UTF-8 by contract) with a bad byte gets.
"""

from __future__ import annotations

from auditor.errors import InputError, NotUtf8Error, UsageError
from auditor.ingest import registry
from auditor.ingest.base import Reader
from auditor.ingest.files import InputFile
from auditor.ingest.options import DEFAULT_FALLBACK
from auditor.ingest.pbx_custom import CustomCdrCsv, sniff_with
from auditor.ingest.pbx_format_file import load_cdr_format


def detect(
    file: InputFile,
    forced: str | None = None,
    cdr_format: str | None = None,
    encoding_fallback: str = DEFAULT_FALLBACK,
) -> Reader:
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
    not_utf8: NotUtf8Error | None = None
    if file.is_parquet:
        head = ""
    else:
        try:
            head = file.head_text()
        except NotUtf8Error as exc:
            not_utf8 = exc
            head = file.head_text(fallback=encoding_fallback)
        if not head.strip():
            raise InputError(file.name, "file is empty")
    if (
        cdr_format is not None
        and not file.is_parquet
        and sniff_with(head, load_cdr_format(cdr_format))
    ):
        return CustomCdrCsv()
    for reader in registry.READERS:
        if (not_utf8 is None or reader.kind == "cdr") and reader.sniff(file, head):
            return reader
    if not_utf8 is not None:
        raise not_utf8
    raise InputError(
        file.name, "unsupported format: not a Twilio call-log / usage export or a known PBX CDR"
    )
