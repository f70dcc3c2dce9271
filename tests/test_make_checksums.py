"""The Makefile reruns a step when the content of its code changes, not its time stamp: the frequentist step on a
copy of the project's Makefile and code, with a stand-in `coupproof` that only writes the step's output."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FAKE_CLI = """#!/bin/sh
# a stand-in for coupproof: writes the fits.json that `coupproof freq --out FOLDER` would
while [ $# -gt 0 ]; do [ "$1" = "--out" ] && out="$2"; shift; done
mkdir -p "$out" && echo '{}' > "$out/fits.json"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The Makefile, the code and specs it reads, an installed-looking .venv and a built panel."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("data_prep", "models", "inference", "reports"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    cli = tmp_path / ".venv" / "bin" / "coupproof"
    cli.parent.mkdir(parents=True)
    cli.write_text(FAKE_CLI)
    cli.chmod(0o755)
    (tmp_path / "raw").mkdir()
    build = tmp_path / "build"
    build.mkdir()
    for path in (tmp_path / ".venv" / ".installed", build / "panel.nc", build / ".panel.done"):
        path.touch()  # after the code was copied: installed, and the panel built from today's code
    return tmp_path


def run_freq(project: Path) -> bool:
    """Make the frequentist results; whether the step ran."""
    run = subprocess.run(["make", "--no-print-directory", "build/freq/fits.json", "DATA_DIR=raw"],
                         cwd=project, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    return "[frequentist] started" in run.stdout


def touch_later(paths, seconds: float = 5) -> None:
    later = time.time() + seconds
    for path in paths:
        os.utime(path, (later, later))


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("sha256sum") is None,
                    reason="make or sha256sum is not installed")
def test_a_step_reruns_on_new_content_not_on_new_time_stamps(project):
    assert run_freq(project)  # first time: no results yet
    assert not run_freq(project)
    code = [*project.glob("models/*.py"), *project.glob("inference/*.py"), *project.glob("reports/*.py"),
            project / "models" / "paper_models.toml"]
    touch_later(code)  # a checkout or pull that leaves every file as it was
    assert not run_freq(project)
    assert sorted(p.name for p in (project / "build" / ".sums").iterdir()) == [
        "model_code.sum", "panel_code.sum", "paper_specs.sum", "report_code.sum"]
    spec = project / "models" / "paper_models.toml"
    spec.write_text(spec.read_text() + "\n# a changed spec file\n")
    assert run_freq(project)
    assert not run_freq(project)
