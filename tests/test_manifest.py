"""manifest.json and `auditor verify`: what a run read and wrote, proved later file by file; and
reruns that give the same bytes."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, audit_samples, run_cli

from auditor import __version__

SAMPLE_CALLS = ["api_calls_2025-11_page0.json", "api_calls_2025-11_page1.json"]
SAMPLE_USAGE = "usage"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def sample_audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("audit") / "o"
    proc = audit_samples(out, "--calls-csv")
    assert proc.returncode == 1, proc.stderr
    return out


def test_manifest_names_every_input_and_output(sample_audit: Path) -> None:
    manifest = json.loads((sample_audit / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tool"]["name"] == "call-auditor"
    assert manifest["tool"]["version"] == __version__
    assert manifest["command"] == "audit"
    # the options in effect, paths as given; --out and --force are not options of the result
    opts = manifest["options"]
    assert opts["paths"] == ["sample_exports"]
    assert opts["ingest"]["tz"] == "America/New_York" and opts["ingest"]["dst"] == "earliest"
    assert opts["audit"]["period"] == "month" and opts["audit"]["calls_csv"] is True
    assert "out" not in json.dumps(opts) and "force" not in opts
    # every input by the name the user gave it (as in source_file), with its size and hash
    # (the exports, then the settings file the options came from)
    summary = json.loads((sample_audit / "summary.json").read_text(encoding="utf-8"))
    paths = [i["path"] for i in manifest["inputs"]]
    assert paths == [f["file"] for f in summary["inputs"]] + ["sample_exports/auditor.toml"]
    for entry in manifest["inputs"]:
        path = ROOT / entry["path"]
        assert entry["path"].startswith("sample_exports/")
        assert entry["size"] == path.stat().st_size and entry["sha256"] == sha(path)
    assert {i["kind"] for i in manifest["inputs"]} == {"calls", "usage", "cdr", "config"}
    # every other file in DIR, not manifest.json itself
    outputs = {o["path"]: o for o in manifest["outputs"]}
    assert sorted(outputs) == sorted(set(files_of(sample_audit)) - {"manifest.json"})
    assert "calls.csv" in outputs
    for name, entry in outputs.items():
        assert entry["sha256"] == sha(sample_audit / name)
        assert entry["size"] == (sample_audit / name).stat().st_size
    # sorted keys, nothing about where or when it ran
    text = (sample_audit / "manifest.json").read_text(encoding="utf-8")
    assert text == json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_no_output_names_the_partial_folder_or_the_out_path(sample_audit: Path) -> None:
    for name, data in files_of(sample_audit).items():
        assert b".partial-" not in data, name
        assert str(sample_audit.parent).encode() not in data, name


def test_verify_ok_then_changed_missing_and_unlisted(sample_audit: Path, tmp_path: Path) -> None:
    proc = run_cli("verify", str(sample_audit), cwd=ROOT)
    assert proc.returncode == 0, proc.stdout
    lines = proc.stdout.splitlines()
    manifest = json.loads((sample_audit / "manifest.json").read_text(encoding="utf-8"))
    files = len(manifest["inputs"]) + len(manifest["outputs"])
    assert len(lines) == files + 1 and all(line.startswith("OK ") for line in lines[:-1])
    assert f"{files} OK" in lines[-1]

    out = tmp_path / "copy"
    shutil.copytree(sample_audit, out)
    with (out / "summary.json").open("ab") as fh:
        fh.write(b" ")
    (out / "bridge.csv").unlink()
    (out / "notes.txt").write_text("added later")
    proc = run_cli("verify", str(out), cwd=ROOT)
    assert proc.returncode == 1
    said = {line.split()[2]: line.split()[0] for line in proc.stdout.splitlines()[:-1]}
    assert said["summary.json"] == "changed"
    assert said["bridge.csv"] == "missing"
    assert said["notes.txt"] == "changed"
    assert said["calls.parquet"] == "OK"
    assert "1 missing" in proc.stdout and "2 changed" in proc.stdout


def test_verify_finds_moved_inputs_with_inputs(tmp_path: Path) -> None:
    """Inputs named relative to the working folder of the run: from elsewhere they are missing
    unless --inputs says where they are now; a changed copy is `changed`."""
    run_dir = tmp_path / "run"
    (run_dir / "exports").mkdir(parents=True)
    for name in SAMPLE_CALLS:
        shutil.copy(ROOT / "sample_exports" / name, run_dir / "exports" / name)
    shutil.copytree(ROOT / "sample_exports" / SAMPLE_USAGE, run_dir / "exports" / SAMPLE_USAGE)
    proc = run_cli("audit", "exports", "--out", "o", cwd=run_dir)
    assert proc.returncode in (0, 1), proc.stderr
    out = run_dir / "o"
    assert run_cli("verify", "o", cwd=run_dir).returncode == 0

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = run_cli("verify", str(out), cwd=elsewhere)
    assert proc.returncode == 1
    assert all(
        line.startswith("missing  input") for line in proc.stdout.splitlines() if " input " in line
    )

    moved = tmp_path / "archive" / "2025-11"
    shutil.copytree(run_dir / "exports", moved)
    proc = run_cli("verify", str(out), "--inputs", str(moved), cwd=elsewhere)
    assert proc.returncode == 0, proc.stdout
    assert f"(at {moved / SAMPLE_CALLS[0]})" in proc.stdout

    # by file name, several paths after --inputs
    files = [str(p) for p in sorted(moved.rglob("*")) if p.is_file()]
    assert run_cli("verify", str(out), "--inputs", *files, cwd=elsewhere).returncode == 0

    with (moved / SAMPLE_CALLS[1]).open("ab") as fh:
        fh.write(b"\n")
    proc = run_cli("verify", str(out), "--inputs", str(moved), cwd=elsewhere)
    assert proc.returncode == 1
    assert f"changed  input   exports/{SAMPLE_CALLS[1]}" in proc.stdout


def test_verify_usage_mistakes(tmp_path: Path, sample_audit: Path) -> None:
    proc = run_cli("verify", str(tmp_path))
    assert proc.returncode == 2 and "manifest.json: no such file" in proc.stderr
    proc = run_cli("verify", str(sample_audit), "somewhere")  # paths without --inputs
    assert proc.returncode == 2 and "--inputs" in proc.stderr
    proc = run_cli("verify", str(sample_audit), "--inputs")  # and --inputs without paths
    assert proc.returncode == 2 and "--inputs needs" in proc.stderr


def test_verify_refuses_a_manifest_that_points_outside(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (tmp_path / "secret").write_text("x")
    manifest = {"inputs": [], "outputs": [{"path": "../secret", "size": 1, "sha256": "0"}]}
    (out / "manifest.json").write_text(json.dumps(manifest))
    proc = run_cli("verify", str(out))
    assert proc.returncode == 2 and "leaves the folder" in proc.stderr


def test_pricing_file_is_an_input(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("")
    out = tmp_path / "o"
    proc = audit_samples(out, "--pricing", str(rules))
    assert proc.returncode == 1, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entry = next(i for i in manifest["inputs"] if i["kind"] == "pricing")
    assert (entry["path"], entry["kind"], entry["size"]) == (str(rules), "pricing", 0)
    assert manifest["options"]["audit"]["pricing"] == str(rules)
    rules.write_text("# edited")
    assert run_cli("verify", str(out), cwd=ROOT).returncode == 1


@pytest.mark.parametrize("command", ["audit", "validate"])
def test_the_settings_file_is_an_input(tmp_path: Path, command: str) -> None:
    """The --config file shaped the run as much as its flags: hashed beside the exports, and a
    later edit of it is `changed`."""
    settings = tmp_path / "account.toml"
    shutil.copy(ROOT / "sample_exports" / "auditor.toml", settings)
    out = tmp_path / "o"
    proc = run_cli(
        command, "sample_exports", "--out", str(out), "--config", str(settings), cwd=ROOT
    )
    assert proc.returncode == 1, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["inputs"][-1]
    assert (entry["path"], entry["kind"], entry["sha256"]) == (
        str(settings),
        "config",
        sha(settings),
    )
    assert run_cli("verify", str(out), cwd=ROOT).returncode == 0
    settings.write_text(settings.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    check = run_cli("verify", str(out), cwd=ROOT)
    assert check.returncode == 1
    assert any(
        line.startswith("changed") and str(settings) in line for line in check.stdout.splitlines()
    )


@pytest.mark.parametrize("command", ["audit", "validate"])
def test_reruns_give_the_same_bytes(tmp_path: Path, command: str) -> None:
    """Same inputs, same options, two DIRs: every file byte for byte, manifest.json included."""
    args = ["sample_exports", "--tz", "America/New_York", "--dst", "earliest"]
    args += ["--pbx-tz", "America/New_York"]
    if command == "audit":
        args.append("--calls-csv")
    first, second = tmp_path / "first", tmp_path / "nested" / "second"
    for out in (first, second):
        proc = run_cli(command, *args, "--out", str(out), cwd=ROOT)
        assert proc.returncode == 1, proc.stderr
    a, b = files_of(first), files_of(second)
    assert sorted(a) == sorted(b) and "manifest.json" in a
    assert [name for name in a if a[name] != b[name]] == []
