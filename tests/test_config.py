"""Settings per account: `--config FILE` and `auditor.toml` in the working folder (TOML keys are the
options without `--`; flags override the file; an unknown key is one line naming it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES, run_cli

from auditor.cli.config import OptionSpec, load_config
from auditor.errors import UsageError

# 8 rows, naive New York times, one inside the 2025-03-09 spring-forward gap
MARCH = str(SAMPLES / "console_calls_2025-03-09_new_york.csv")
NEW_YORK = 'tz = "America/New_York"\ndst = "earliest"\n'


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _manifest_options(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["options"]


def test_config_file_supplies_the_options(tmp_path: Path) -> None:
    config = _write(tmp_path / "acme.toml", NEW_YORK)
    done = run_cli("validate", MARCH, "--out", str(tmp_path / "o"), "--config", str(config))
    assert done.returncode == 0, done.stderr  # --tz given by the file, the DST row converted
    assert done.stdout.splitlines()[0] == f"settings from {config}"
    ingest = _manifest_options(tmp_path / "o")["ingest"]
    assert (ingest["tz"], ingest["dst"]) == ("America/New_York", "earliest")


def test_flags_override_the_file(tmp_path: Path) -> None:
    config = _write(tmp_path / "acme.toml", NEW_YORK)
    out = tmp_path / "o"
    done = run_cli("validate", MARCH, "--out", str(out), "--config", str(config), "--dst", "reject")
    assert done.returncode == 1, done.stderr  # the DST-gap row rejected, as --dst reject says
    assert "1 row(s) rejected" in done.stdout
    assert _manifest_options(out)["ingest"]["dst"] == "reject"
    assert _manifest_options(out)["ingest"]["tz"] == "America/New_York"  # still from the file


def test_command_table_wins_over_the_top_level(tmp_path: Path) -> None:
    text = NEW_YORK + '\n[validate]\ndst = "reject"\n\n[audit]\nmatch-window = 90\n'
    config = _write(tmp_path / "acme.toml", text)
    done = run_cli("validate", MARCH, "--out", str(tmp_path / "o"), "--config", str(config))
    assert done.returncode == 1, done.stderr
    assert _manifest_options(tmp_path / "o")["ingest"]["dst"] == "reject"


def test_audit_only_key_at_the_top_is_ignored_by_validate(tmp_path: Path) -> None:
    config = _write(tmp_path / "acme.toml", NEW_YORK + 'did = ["+12125550150"]\n')
    done = run_cli("validate", MARCH, "--out", str(tmp_path / "o"), "--config", str(config))
    assert done.returncode == 0, done.stderr  # not "unknown key 'did'"
    assert done.stdout.splitlines()[0] == f"settings from {config}"
    options = _manifest_options(tmp_path / "o")
    assert "audit" not in options  # validate has no --did: nothing of it recorded
    assert (options["ingest"]["tz"], options["ingest"]["dst"]) == ("America/New_York", "earliest")
    # The same file gives audit its DIDs: the key was read, and is audit's.
    usage = str(SAMPLES / "usage" / "2025-03_monthly.csv")
    done = run_cli("audit", MARCH, usage, "--out", str(tmp_path / "a"), "--config", str(config))
    assert done.returncode in (0, 1), done.stderr
    assert _manifest_options(tmp_path / "a")["audit"]["match"]["dids"] == ["+12125550150"]


def test_unknown_key_is_one_line_naming_it(tmp_path: Path) -> None:
    config = _write(tmp_path / "acme.toml", NEW_YORK + "match-windw = 90\n")
    done = run_cli("validate", MARCH, "--out", str(tmp_path / "o"), "--config", str(config))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"auditor: error: {config}: unknown key 'match-windw' (known: ")
    assert "match-window" in lines[0]
    assert not (tmp_path / "o").exists()


def test_unknown_key_in_a_command_table(tmp_path: Path) -> None:
    config = _write(tmp_path / "acme.toml", "[validate]\ndid = ['+12125550150']\n")
    done = run_cli("validate", MARCH, "--out", str(tmp_path / "o"), "--config", str(config))
    assert done.returncode == 2
    assert "[validate] unknown key 'did'" in done.stderr


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('max-inflate = "lots"\n', "key 'max-inflate': "),
        ('dst = "sometimes"\n', "key 'dst': "),
        ('tz = ["America/New_York"]\n', "key 'tz' takes one value, not a list"),
        ("tz = { name = 'x' }\n", "key 'tz' takes a string, number or true/false, not a table"),
        ('out = "somewhere"\n', "key 'out' cannot be set in a config file"),
        ('config = "other.toml"\n', "key 'config' cannot be set in a config file"),
        ("tz = \n", "not valid TOML"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(tmp_path: Path, text: str, says: str) -> None:
    config = _write(tmp_path / "acme.toml", text)
    done = run_cli("validate", MARCH, "--out", str(tmp_path / "o"), "--config", str(config))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"auditor: error: {config}: "), lines[0]
    assert says in lines[0]


def test_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    done = run_cli("validate", MARCH, "--out", str(tmp_path / "o"), "--config", str(missing))
    assert done.returncode == 2
    assert done.stderr == f"auditor: error: {missing}: config file not found\n"


def test_auditor_toml_in_the_working_folder_is_read(tmp_path: Path) -> None:
    _write(tmp_path / "auditor.toml", NEW_YORK)
    done = run_cli("validate", MARCH, "--out", "o", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "settings from auditor.toml"
    assert _manifest_options(tmp_path / "o")["ingest"]["dst"] == "earliest"


def test_given_config_wins_over_auditor_toml_here(tmp_path: Path) -> None:
    _write(tmp_path / "auditor.toml", "xyz = 1\n")  # would fail if read
    _write(tmp_path / "other.toml", NEW_YORK)
    done = run_cli("validate", MARCH, "--out", "o", "--config", "other.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr  # auditor.toml's unknown key would be exit 2
    assert done.stdout.splitlines()[0] == "settings from other.toml"
    ingest = _manifest_options(tmp_path / "o")["ingest"]
    assert (ingest["tz"], ingest["dst"]) == ("America/New_York", "earliest")  # other.toml's


def test_without_config_nothing_is_read(tmp_path: Path) -> None:
    done = run_cli("validate", MARCH, "--out", "o", "--tz", "America/New_York", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # default --dst reject
    assert not done.stdout.startswith("settings from")


def test_audit_options_from_the_file(tmp_path: Path) -> None:
    text = NEW_YORK + (
        'account = "AC5f1a9e0c7b3d24e6a8f0b1c2d3e4f5a6"\n'
        '\n[audit]\nperiod = "day"\nmatch-window = 90\ndid = "+12125550150"\n'
    )
    config = _write(tmp_path / "acme.toml", text)
    out = tmp_path / "o"
    done = run_cli("audit", MARCH, "--out", str(out), "--config", str(config), "--quiet")
    assert done.returncode in (0, 1), done.stderr
    audit = _manifest_options(out)["audit"]
    assert audit["period"] == "day"
    assert audit["match"]["window_s"] == 90
    assert audit["match"]["dids"] == ["+12125550150"]  # one value for a repeatable option


SPECS = {
    "audit": {
        "pricing": OptionSpec("pricing", "pricing"),
        "records": OptionSpec("records", "records", multiple=True),
        "records-format": OptionSpec("records-format", "records_format"),
        "did": OptionSpec("did", "did", multiple=True),
        "tz": OptionSpec("tz", "tz"),
    },
    "validate": {"tz": OptionSpec("tz", "tz")},
}


def test_paths_are_relative_to_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "acme"
    folder.mkdir()
    _write(folder / "my_format.toml", "")
    text = (
        'pricing = "rules/pricing.toml"\nrecords = ["calls.csv", "/abs/x.csv"]\n'
        'records-format = "my_format.toml"\ntz = "UTC"\n'
    )
    config = _write(folder / "auditor.toml", text)
    got = load_config(config, "audit", SPECS).default_map
    assert got == {
        "pricing": str(folder / "rules" / "pricing.toml"),
        "records": [str(folder / "calls.csv"), "/abs/x.csv"],
        "records_format": str(folder / "my_format.toml"),
        "tz": "UTC",
    }
    shipped = _write(folder / "b.toml", 'records-format = "notification_log"\n')
    assert load_config(shipped, "audit", SPECS).default_map == {
        "records_format": "notification_log"
    }
    assert load_config(config, "validate", SPECS).default_map == {"tz": "UTC"}


def test_unknown_key_names_the_known_ones(tmp_path: Path) -> None:
    config = _write(tmp_path / "a.toml", "zone = 'UTC'\n")
    with pytest.raises(UsageError, match=r"unknown key 'zone' \(known: did, pricing, records"):
        load_config(config, "validate", SPECS)


def test_sample_config_is_not_read_as_an_export(tmp_path: Path) -> None:
    """sample_exports/auditor.toml sits among the exports: a folder argument skips it."""
    out = tmp_path / "o"
    done = run_cli(
        "validate", "sample_exports", "--out", str(out),
        "--config", "sample_exports/auditor.toml", "--json", cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # the four planted bad rows
    names = [f["file"] for f in json.loads(done.stdout)["inputs"]]
    assert names and not any(n.endswith(".toml") for n in names)
