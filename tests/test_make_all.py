"""`make all`'s dependency chain, run for real on a tiny synthetic panel: every step once, then nothing on a second
run, and only what reads a changed file after that."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from simulate import synthetic_panel_file

ROOT = Path(__file__).resolve().parents[1]


def make(build: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", "all", f"BUILD={build}", "MODELS=m1",
                           "FIT_ARGS=--draws 40 --tune 40 --chains 2"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def make_all(build: Path) -> tuple[list[str], list[str]]:
    """Run `make all` for Model 1 in `build`: the steps it ran and the outputs it found up to date."""
    run = make(build)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.search(r"^make all: finished in \d+ s", run.stdout, re.M), run.stdout
    ran = re.findall(r"^\[(.+?)\] started", run.stdout, re.M)
    assert ran == re.findall(r"^\[(.+?)\] done in \d+ s", run.stdout, re.M)  # every step started also finished
    return ran, re.findall(r"^\[up to date\] (.+)$", run.stdout, re.M)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_all_runs_each_step_once_then_nothing(tmp_path):
    build = tmp_path / "build"
    panel = synthetic_panel_file(build / "panel.nc")
    stamp = build / ".panel.done"  # the panel step ran after the code and raw files changed: it is skipped
    stamp.touch()
    earlier = time.time() - 2
    for path in (panel, stamp):
        os.utime(path, (earlier, earlier))
    ran, fresh = make_all(build)
    assert ran == ["frequentist", "fit m1", "power-scaling", "report"]
    assert fresh == [str(build / "panel.nc")]
    report = build / "report" / "report.html"
    assert "m1" in report.read_text() and (build / "fits" / "m1_marginal.nc").is_file()

    ran, fresh = make_all(build)
    assert ran == []  # a second run does nothing
    assert len(fresh) == 5 and fresh[-1] == str(report)

    later = time.time() + 5  # a refitted model: the power-scaling and the report follow, nothing else
    os.utime(build / "fits" / "m1_marginal.nc", (later, later))
    ran, _ = make_all(build)  # run, not --just-print: a dry run cannot know that the checksum files stay as they are
    assert ran == ["power-scaling", "report"]
