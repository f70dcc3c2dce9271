"""Small file helpers: atomic writing (a uniquely named temporary file beside the target, then a rename, so no
half-written output remains and two runs never share a temporary file), checks of output paths before any work,
and reading a TOML configuration file with one clear error."""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

FULL_DISK = 1 << 20  # bytes free below which a library's write failure is taken to be a full disk
TEMP_SUFFIX = 14  # characters atomic_write's temporary name adds to the output's name ('.' + '.xxxxxxxx.tmp')


class OutputPathError(ValueError):
    """An output path that cannot or must not be written (a folder, an input, unwritable, an unsafe name)."""


def check_not_special(path: Path, what: str = "output") -> None:
    """Refuse to write onto anything but a regular file or a new path: a symbolic link (it would be replaced, and
    whatever it points to may be an input), a FIFO, a socket or a device."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot check the {what} path ({exc.strerror or exc})") from None
    if stat.S_ISLNK(mode):
        raise OutputPathError(f"{path}: the {what} is a symbolic link; give the file's own path or a new one")
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise OutputPathError(f"{path}: the {what} is not a regular file (a FIFO, socket or device); "
                              "give a new path or a regular file")


def _umask() -> int:
    """The process's umask (read without changing it where /proc tells it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _output_mode(path: Path) -> int:
    """The mode an output gets: the replaced file's, or a new file's under the user's umask (mkstemp's temporary
    file is 0600 whatever the umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a fresh temporary path in the target's folder, then rename it to `path`.

    The temporary name is unique (two runs writing one output each write their own file; the last rename wins
    and the output is always complete) and is removed on any exit, an exception or an interrupt included. A
    target that is a symbolic link or a special file is refused (check_not_special)."""
    path = Path(path)
    check_not_special(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, _output_mode(path))
        os.replace(tmp, path)
    except OSError as exc:  # disk full, quota, permission: a user error naming the output, not a traceback
        full = "No space left on device" in str(exc) or shutil.disk_usage(path.parent).free < FULL_DISK
        if exc.errno is None and not full:
            raise  # a library's own failure (h5py gives no errno): not a resource problem
        reason = "no space left on device" if full else os.strerror(exc.errno).lower()
        raise OutputPathError(f"{path}: cannot be written ({reason}); nothing was written there") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_netcdf(path: str | os.PathLike, data, **options) -> Path:
    """Write an xarray Dataset or DataTree as netCDF (h5netcdf), atomically: serialised in memory first, then
    written as bytes, because h5py crashes the process (a segfault) when the disk fills during its own writes."""
    payload = data.to_netcdf(engine="h5netcdf", **options)
    return atomic_write(path, lambda tmp: tmp.write_bytes(payload))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` to `path` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text))


def read_toml(path: str | os.PathLike, what: str, error: type[Exception] = ValueError) -> dict:
    """A TOML file as a dict; a missing or malformed file raises `error` naming the file and `what` it should be."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: {what} not found")
    try:
        return tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid TOML ({exc})") from exc
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc})") from exc


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}")


def check_safe_name(name: str, what: str, error: type[Exception] = OutputPathError) -> str:
    """`name` if it can be used as (part of) a file name inside an output folder: letters, digits, '_', '.', '+',
    '-', starting with a letter or digit, no '..', at most 100 characters; otherwise `error`."""
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name) or ".." in name:
        raise error(f"{what} {name!r} cannot be used as a file name: use letters, digits, '_', '.', '+' "
                              "and '-', starting with a letter or digit")
    return name


def _writable_ancestor(path: Path) -> Path:
    """The nearest existing ancestor of `path`, which must be a folder we can create files in."""
    ancestor = path
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputPathError(f"{path}: cannot be created, {ancestor} is a file, not a folder")
    try:  # a real probe: os.access says yes to root even on a read-only file system
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot write there ({ancestor}: {exc.strerror or exc})") from None
    return ancestor


def _existing_ancestor(path: str | os.PathLike) -> Path:
    """`path` itself if it exists, else its nearest existing ancestor."""
    ancestor = Path(path).absolute()
    while not ancestor.exists() and ancestor.parent != ancestor:
        ancestor = ancestor.parent
    return ancestor


def _name_max(path: Path) -> int:
    """The longest file name the file system of `path` (its nearest existing ancestor) allows."""
    try:
        return os.pathconf(_existing_ancestor(path), "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _shorten_path(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}...{text[-50:]}"


def check_free_space(path: str | os.PathLike, need: int, what: str = "outputs") -> None:
    """Refuse to start long work whose outputs (about `need` bytes) would not fit on the disk of `path` (its
    nearest existing ancestor), so that hours of sampling do not end in a full disk."""
    ancestor = _existing_ancestor(path)
    free = shutil.disk_usage(ancestor).free
    if free < need:
        raise OutputPathError(f"{path}: not enough free space for the {what} (about {need / 1e6:,.0f} MB needed, "
                              f"{free / 1e6:,.0f} MB free on {ancestor})")


def check_output(path: str | os.PathLike, *, folder: bool, inputs: Iterable[str | os.PathLike | None] = (),
                 what: str = "output") -> Path:
    """Check, before any work starts, that `path` can be written as a file (folder=False) or a folder of outputs
    (folder=True): not a folder where a file is wanted or a file where a folder is, writable, and neither equal to
    nor inside any of `inputs` (files or folders the run reads)."""
    path = Path(path)
    if not folder:
        check_not_special(path, what)
    if folder and path.exists() and not path.is_dir():
        raise OutputPathError(f"{path}: the {what} folder is an existing file")
    if not folder and path.is_dir():
        raise OutputPathError(f"{path}: the {what} file is an existing folder")
    name_max = _name_max(path)
    for part in path.parts:
        if len(part.encode()) + (TEMP_SUFFIX if part == path.name else 0) > name_max:
            raise OutputPathError(f"{_shorten_path(path)}: a name in the path is longer than the file system allows "
                                  f"({name_max} bytes, {TEMP_SUFFIX} of them for the temporary file)")
    target = path.resolve()
    for given in inputs:
        if given is None:
            continue
        source = Path(given).resolve()
        if target == source or source in target.parents:
            raise OutputPathError(f"{path}: the {what} would overwrite or write inside the input {given}")
    _writable_ancestor(target if folder else target.parent)
    return path

