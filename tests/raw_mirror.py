"""A writable mirror of the raw data folder for tests that damage one file: symlinks to every real file, so a
single file can be replaced without copying the rest."""

from __future__ import annotations

import os
from pathlib import Path


def symlink_mirror(raw_dir: Path, root: Path) -> Path:
    """`root` filled with one folder per source, each holding symlinks to the real files."""
    for folder in raw_dir.iterdir():
        if folder.is_dir():
            (root / folder.name).mkdir(parents=True)
            for f in folder.iterdir():
                os.symlink(f, root / folder.name / f.name)
    return root
