"""Every registered reader (auditor/ingest/registry.py) has a fixture, a file under tests/fixtures/
or sample_exports/ that is detected as its format, and a fuzz source (tests/mutate.py's SOURCES,
which tests/test_fuzz.py and benchmarks/fuzz.py mutate): a new reader comes with both."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from functools import cache

from conftest import FIXTURES, ROOT, SAMPLES
from mutate import SOURCES

from auditor.errors import AuditorError
from auditor.ingest.detect import detect
from auditor.ingest.files import InputFile
from auditor.ingest.registry import reader_names

# The custom CSV reader is never sniffed: a file is its format only under a --cdr-format, so a
# fixture counts for it when a shipped format file describes it.
CDR_FORMATS = sorted(p.stem for p in (ROOT / "auditor" / "pbx_formats").glob("*.toml"))


@cache
def _detected() -> frozenset[str]:
    """The formats detected among the fixture and sample files."""
    found: set[str] = set()
    for path in sorted([*FIXTURES.rglob("*"), *SAMPLES.rglob("*")]):
        if not path.is_file():
            continue
        file = InputFile(path, path.relative_to(ROOT).as_posix())
        for cdr_format in (None, *CDR_FORMATS):
            # not an export (a README, a script), or not this format: AuditorError
            with contextlib.suppress(AuditorError):
                found.add(detect(file, cdr_format=cdr_format).name)
    return frozenset(found)


def without_fixture(names: Iterable[str]) -> list[str]:
    return [n for n in names if n not in _detected()]


def without_fuzz_source(names: Iterable[str]) -> list[str]:
    fuzzed = {source.format for source in SOURCES}
    return [n for n in names if n not in fuzzed]


def test_every_reader_has_a_fixture() -> None:
    missing = without_fixture(reader_names())
    assert not missing, f"no file under tests/fixtures or sample_exports is read as: {missing}"


def test_every_reader_has_a_fuzz_source() -> None:
    missing = without_fuzz_source(reader_names())
    assert not missing, f"no source in tests/mutate.py SOURCES is read as: {missing}"


def test_a_reader_with_neither_fails_both() -> None:
    assert without_fixture(["no-such-reader"]) == ["no-such-reader"]
    assert without_fuzz_source(["no-such-reader"]) == ["no-such-reader"]
