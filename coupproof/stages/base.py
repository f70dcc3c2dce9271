"""What every stage shares: its voice (`Progress`), its file helpers and its checks of options.

How a stage tells its caller what it is doing (`Progress`), how its result reads and writes its files, and the
checks of options that every stage makes before any work starts.

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
    """A stage's voice: a status line over a long step, one-line notes, a progress bar over many items.

    This one prints with rich on stderr (the command line and notebooks); `Progress(quiet=True)` says nothing.
    Subclass it and override `note`, `status` and `bar` to route a stage's voice elsewhere (a log, a GUI).

    Parameters
    ----------
    quiet : bool, optional
        Whether to say nothing at all (default: False).
    console : rich.console.Console, optional
        The console to print on; default: a new one on stderr, made when first needed.

    Attributes
    ----------
    quiet : bool
        Whether it says nothing.

    Examples
    --------
    >>> import coupproof as cp
    >>> from coupproof.stages import QUIET
    >>> result = cp.frequentist(cp.FrequentistSettings(), QUIET)  # says nothing
    >>> result = cp.frequentist(cp.FrequentistSettings(), cp.Progress())  # a status line on stderr
    """

    def __init__(self, quiet: bool = False, console=None):
        self.quiet = quiet
        self._console = console

    @property
    def console(self):
        """The rich console it prints on (made on first use: stderr)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    def note(self, message: str) -> None:
        """Print one line (unless quiet).

        Parameters
        ----------
        message : str
            The line; rich markup is allowed, so escape text that comes from users or files
            (rich.markup.escape).
        """
        if not self.quiet:
            self.console.print(message, highlight=False, soft_wrap=True)

    @contextlib.contextmanager
    def status(self, message: str) -> Iterator[None]:
        """Show a spinner with `message` while the block runs (unless quiet).

        Parameters
        ----------
        message : str
            What the block is doing, e.g. "Building the dyad panel ...".

        Yields
        ------
        None
            Control to the block.
        """
        if self.quiet:
            yield
            return
        with self.console.status(message):
            yield

    @contextlib.contextmanager
    def bar(self, description: str, total: int) -> Iterator[Callable[[], None]]:
        """Show a progress bar of `total` steps while the block runs (unless quiet).

        Parameters
        ----------
        description : str
            The bar's label.
        total : int
            The number of steps.

        Yields
        ------
        collections.abc.Callable
            A function of no arguments that advances the bar by one step.
        """
        if self.quiet:
            yield lambda: None
            return
        from rich.progress import Progress as Bar

        with Bar(console=self.console, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda: bar.advance(task)


QUIET = Progress(quiet=True)


def at_least(value: int, minimum: int, name: str) -> int:
    """Check that an option is a whole number of at least `minimum`.

    Parameters
    ----------
    value : int
        The option's value.
    minimum : int
        The smallest value allowed.
    name : str
        The option's name as settings spell it (`loglik_every`); the error spells it as the command line does.

    Returns
    -------
    int
        `value`, unchanged.

    Raises
    ------
    ValueError
        If `value` is not a whole number (booleans included) or is below `minimum`, naming the option
        (--loglik-every).
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"--{name.replace('_', '-')} must be at least {minimum}, got {value}")
    return value


def names(text: str | tuple[str, ...] | list[str], all_names, option: str = "model", what: str = "model"
          ) -> tuple[str, ...]:
    """Read names from a comma-separated string or a sequence; "all" stands for `all_names`.

    Parameters
    ----------
    text : str, tuple of str or list of str
        "m2,m4", "all", or the names themselves.
    all_names : iterable of str
        What "all" stands for.
    option : str, optional
        The option's name in the error message (default: "model").
    what : str, optional
        What a name names, in the error message (default: "model").

    Returns
    -------
    tuple of str
        The names, at least one.

    Raises
    ------
    ValueError
        If no name is given.
    """
    if isinstance(text, str):
        chosen = list(all_names) if text == "all" else [n.strip() for n in text.split(",") if n.strip()]
    else:
        chosen = list(text)
    if not chosen:
        raise ValueError(f"--{option} names no {what}")
    return tuple(chosen)


def write_table(path: Path, table: pd.DataFrame, index: bool = False) -> Path:
    """Write a table as CSV, atomically.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    table : pandas.DataFrame
        The table.
    index : bool, optional
        Whether to write the index (default: False).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return atomic_write_text(path, table.to_csv(index=index))


def write_markdown(path: Path, title: str, table: pd.DataFrame, floatfmt: str = ".3f", index: bool = False) -> Path:
    """Write a table as a Markdown page with a title, atomically.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    title : str
        The page's heading.
    table : pandas.DataFrame
        The table.
    floatfmt : str, optional
        The format of numbers (default: ".3f").
    index : bool, optional
        Whether to write the index (default: False).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return atomic_write_text(path, f"# {title}\n\n" + table.to_markdown(index=index, floatfmt=floatfmt) + "\n")


def write_png(path: Path, png: bytes) -> Path:
    """Write PNG bytes to a file, atomically.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    png : bytes
        The image.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return atomic_write(path, lambda tmp: tmp.write_bytes(png))


def read_table(path: Path) -> pd.DataFrame | None:
    """Read a CSV table written by a stage.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    pandas.DataFrame or None
        The table (an empty one without columns where the file is empty), or None where there is no file.
    """
    if not Path(path).is_file():
        return None
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def read_png(path: Path) -> bytes | None:
    """Read a PNG written by a stage.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    bytes or None
        The image, or None where there is no file.
    """
    return Path(path).read_bytes() if Path(path).is_file() else None
