"""The one loader of format files (`ingest/format_files.py`): `--cdr-format` and `--records-format`
find a shipped file by stem or a user's by path, and say the same things when they cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import InputError
from auditor.ingest import pbx_format_file, records_format_file
from auditor.ingest.format_files import FormatFiles

KINDS = {
    "pbx": (pbx_format_file.FORMATS, pbx_format_file.load_cdr_format, "format file"),
    "records": (
        records_format_file.FORMATS,
        records_format_file.load_records_format,
        "records format file",
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_shipped_formats_are_the_packages_toml_files(kind: str) -> None:
    formats, load, _ = KINDS[kind]
    names = formats.shipped()
    assert names and names == sorted(names)
    for name in names:
        assert load(name).source == name


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_unknown_name_lists_the_shipped_ones(kind: str) -> None:
    formats, load, what = KINDS[kind]
    known = ", ".join(formats.shipped())
    with pytest.raises(InputError) as err:
        load("nope")
    assert str(err.value) == f"nope: no such {what} (shipped formats: {known})"


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_file_that_is_not_utf8_or_not_toml_names_the_file(kind: str, tmp_path: Path) -> None:
    """Not UTF-8 is one line naming the file for both (a PBX format file was an internal error)."""
    _, load, _ = KINDS[kind]
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'description = "caf\xe9"\n')
    with pytest.raises(InputError, match=r"latin\.toml: cannot be read \('utf-8' codec"):
        load(str(latin))
    broken = tmp_path / "broken.toml"
    broken.write_text("[columns\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.toml: not valid TOML \("):
        load(str(broken))


def test_a_path_goes_by_its_stem(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('name = "x"\n', encoding="utf-8")
    loaded = FormatFiles("auditor.records_formats", "records format file").load(str(path))
    assert (loaded.data, loaded.stem) == ({"name": "x"}, "mine")
