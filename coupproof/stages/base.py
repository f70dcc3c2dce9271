"""What every stage shares: how it tells its caller what it is doing (`Progress`), how its result reads and writes
its files, and the checks of options that every stage makes before any work starts.

A stage is one function (`coupproof.stages.fit_models`, `robustness`, ...) that takes a settings object and returns
a result object. The result holds tables and figures in memory; `result.write(out)` writes them (atomically, one
file at a time) and `ResultClass.read(out)` reads them back, so the file names of a stage's outputs are written
down once, in its result class. The command line parses options into settings, calls the stage, prints and writes;
the Python API calls the same functions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from data_prep.io import atomic_write, atomic_write_text


class Progress:
    """A stage's voice: a status line over a long step, one-line notes, a progress bar over many items. This one
    prints with rich on stderr (the command line and notebooks); `Progress(quiet=True)` says nothing."""

    def __init__(self, quiet: bool = False, console=None):
        self.quiet = quiet
        self._console = console

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    def note(self, message: str) -> None:
        """One line (rich markup allowed; escape text that comes from users or files)."""
        if not self.quiet:
            self.console.print(message, highlight=False, soft_wrap=True)

    @contextlib.contextmanager
    def status(self, message: str) -> Iterator[None]:
        """A spinner with `message` while the block runs."""
        if self.quiet:
            yield
            return
        with self.console.status(message):
            yield

    @contextlib.contextmanager
    def bar(self, description: str, total: int) -> Iterator[Callable[[], None]]:
        """A progress bar of `total` steps; the block gets a function that advances it by one."""
        if self.quiet:
            yield lambda: None
            return
        from rich.progress import Progress as Bar

        with Bar(console=self.console, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda: bar.advance(task)


QUIET = Progress(quiet=True)


def at_least(value: int, minimum: int, name: str) -> int:
    """`value` if it is a whole number >= `minimum`; otherwise a ValueError naming the option."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"--{name.replace('_', '-')} must be at least {minimum}, got {value}")
    return value


def names(text: str | tuple[str, ...] | list[str], all_names, option: str = "model", what: str = "model"
          ) -> tuple[str, ...]:
    """Names from a comma-separated string or a sequence ('all' stands for `all_names`); at least one."""
    if isinstance(text, str):
        chosen = list(all_names) if text == "all" else [n.strip() for n in text.split(",") if n.strip()]
    else:
        chosen = list(text)
    if not chosen:
        raise ValueError(f"--{option} names no {what}")
    return tuple(chosen)


def write_table(path: Path, table: pd.DataFrame, index: bool = False) -> Path:
    """A table as CSV, atomically."""
    return atomic_write_text(path, table.to_csv(index=index))


def write_markdown(path: Path, title: str, table: pd.DataFrame, floatfmt: str = ".3f", index: bool = False) -> Path:
    """A table as a Markdown page with a title, atomically."""
    return atomic_write_text(path, f"# {title}\n\n" + table.to_markdown(index=index, floatfmt=floatfmt) + "\n")


def write_png(path: Path, png: bytes) -> Path:
    """PNG bytes to a file, atomically."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(png))


def read_table(path: Path) -> pd.DataFrame | None:
    """A CSV table written by a stage, or None where there is none (an empty table has no columns)."""
    if not Path(path).is_file():
        return None
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def read_png(path: Path) -> bytes | None:
    """A PNG written by a stage, or None where there is none."""
    return Path(path).read_bytes() if Path(path).is_file() else None
