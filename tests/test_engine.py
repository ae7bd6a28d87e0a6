"""One engine interface (pipeline/engine.py), picked once from the options, and the frozen
`Ingested` it reads: its copies share the work folder, removed with the last of them or at
`close()`. That both engines give the same outputs is tests/test_ray_engine.py's."""

from __future__ import annotations

import gc
import subprocess
import sys
from dataclasses import FrozenInstanceError, replace
from pathlib import Path

import pytest
from conftest import ROOT

from auditor.pipeline import audit as audit_pipeline
from auditor.pipeline.engine import LOCAL_ENGINE, PartitionedEngine
from auditor.pipeline.ingest import ingest
from auditor.pipeline.options import AuditOptions, Engine, EngineOptions, IngestOptions
from auditor.pipeline.runner import THREADS

SAMPLES = ROOT / "sample_exports"
PAGES = [
    str(SAMPLES / "api_calls_2025-11_page0.json"),
    str(SAMPLES / "api_calls_2025-11_page1.json"),
]


def test_the_engine_is_picked_once_from_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    assert audit_pipeline._engine(AuditOptions()) is LOCAL_ENGINE
    monkeypatch.setattr(audit_pipeline, "_runner", lambda _audit: THREADS)
    ray = AuditOptions(engine=EngineOptions(Engine.RAY))
    assert audit_pipeline._engine(ray) == PartitionedEngine(THREADS)


def test_the_local_engine_does_not_import_ray(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from auditor.pipeline.audit import run_audit\n"
        "from auditor.pipeline.options import IngestOptions\n"
        f"run_audit({PAGES!r}, Path({str(tmp_path / 'out')!r}), IngestOptions())\n"
        "assert 'ray' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "calls.parquet").exists()


def test_call_parts_name_each_staged_file_by_its_path() -> None:
    """What the partitioned engine reads: (source_file, staged Parquet path) in name order."""
    ing = ingest(list(reversed(PAGES)), IngestOptions())
    try:
        assert [name for name, _ in ing.parts.files] == sorted(PAGES)
        for _, path in ing.parts.files:
            assert isinstance(path, str) and path.startswith(ing.work.root)
        assert ing.parts.duplicates.height == 0 and ing.parts.account_fill is None
    finally:
        ing.close()


def test_ingested_is_frozen_and_its_copies_share_the_work_folder() -> None:
    ing = ingest(PAGES, IngestOptions())
    root = Path(ing.work.root)
    with pytest.raises(FrozenInstanceError):
        ing.calls = ing.calls  # type: ignore[misc]
    copy = replace(ing, rejects=ing.rejects.head(0))
    rows = ing.calls.collect().height
    del ing
    gc.collect()
    assert root.is_dir()  # the original is gone, the copy still reads the staged calls
    assert copy.calls.collect().height == rows > 0
    del copy
    gc.collect()
    assert not root.exists()  # removed with the last copy


def test_close_removes_the_work_folder_for_every_copy() -> None:
    ing = ingest(PAGES, IngestOptions())
    copy = replace(ing, files=[*ing.files])
    root = Path(ing.work.root)
    copy.close()
    assert not root.exists()
    ing.close()  # once only: a second close does nothing
