"""What a reader may be told (`ReadOptions`) and its defaults: ingest's own, so that readers
import nothing above them (the pipeline's `IngestOptions.read` holds one)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_FALLBACK = "latin-1"  # maps every byte to a character: decoding with it cannot fail
DEFAULT_MAX_INFLATE = 100.0  # `--max-inflate`: gzip may inflate to this multiple of its size


@dataclass(frozen=True)
class ReadOptions:
    """Options a reader may need; most use none of them."""

    cdr_format: str | None = None  # a user's TOML format file for their own PBX CSV
    encoding_fallback: str = DEFAULT_FALLBACK  # PBX CDR lines that are not UTF-8 are read with it
    max_inflate: float = DEFAULT_MAX_INFLATE  # gzip inflating past it is refused (>= 1 GiB)
    # `--exclude GLOB`: files a folder or glob finds that are left out (see ingest/files.py)
    exclude: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
