"""Where a run keeps its intermediate Parquet: a local folder, or an object-store URL.

`--work DIR` (or the system's temporary folder) gets one `auditor-work-*` folder per run,
removed when the run ends. `--work s3://bucket/prefix` (any URL polars writes: s3://, gs://,
az://...) gets one `auditor-work-<random>` prefix instead, so that the tasks of a Ray cluster
without a shared file system write and read the same files; polars reads the store's
credentials and endpoint from the environment (AWS_*, GOOGLE_*, AZURE_*), and the prefix is
removed through fsspec (s3fs, gcsfs or adlfs installed beside the auditor).

Paths are strings joined with `/`: the same code writes a local file or an object, and a
task (perhaps on another node) is given the string.
"""

from __future__ import annotations

import errno
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.errors import OutputError, UsageError, write_reason

PREFIX = "auditor-work-"
# Work files are read once and deleted: fast lz4 over small zstd (about 0.5 s less per million).
WORK_PARQUET: dict[str, Any] = {"compression": "lz4", "statistics": False}


def is_url(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


def _filesystem(url: str) -> Any:
    protocol = url.split("://", 1)[0]
    try:
        import fsspec

        return fsspec.filesystem(protocol)
    except (ImportError, ValueError) as exc:
        raise UsageError(
            f"--work {url}: the run could not remove its work files there without fsspec and "
            f"the {protocol}:// filesystem (e.g. pip install s3fs): {exc}"
        ) from None


@dataclass(frozen=True)
class Work:
    """One run's work location (`root`, a local absolute path or a URL)."""

    root: str

    @classmethod
    def create(cls, base: str | Path | None = None) -> Work:
        """A new, empty work location under `base` (default: the system's temporary folder)."""
        if base is not None and is_url(str(base)):
            url = str(base).rstrip("/")
            fs = _filesystem(url)  # fail before the run, not at its end
            bucket = url.split("://", 1)[1].split("/", 1)[0]
            try:
                found = fs.exists(bucket)
            except Exception as exc:  # credentials, endpoint, network: the store's own words
                raise UsageError(f"--work {url}: cannot reach it ({exc})") from None
            if not found:
                raise UsageError(f"--work {url}: no bucket or container {bucket!r} there")
            return cls(f"{url}/{PREFIX}{secrets.token_hex(6)}")
        folder = None if base is None else Path(base).resolve()
        try:
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
            return cls(tempfile.mkdtemp(prefix=PREFIX, dir=folder))
        except OSError as exc:  # a full or read-only disk, a folder not ours or a file
            where = folder if folder is not None else Path(tempfile.gettempdir())
            reason = write_reason(exc.errno if exc.errno is not None else errno.EIO)
            raise OutputError(reason, f"{where}/{PREFIX}* (the work folder: --work DIR)") from None

    @property
    def remote(self) -> bool:
        return is_url(self.root)

    def __truediv__(self, name: str) -> str:
        return f"{self.root}/{name}"

    def cleanup(self) -> None:
        """Remove the run's work files (a missing location is fine: nothing was written)."""
        if not self.remote:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        fs = _filesystem(self.root)
        if fs.exists(self.root):
            fs.rm(self.root, recursive=True)
