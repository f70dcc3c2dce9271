"""Fault injection against the command line: damaged or foreign panel and fit files, outputs that cannot or must
not be written, unsafe names, non-finite priors, concurrent and interrupted writes, and property-based checks of
the numeric options and of prior files. Every fault must end in one line naming the file or option, exit code 2
(130 for an interrupt), no traceback and no output left behind."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from coupproof.cli import app
from data_prep.io import atomic_write, atomic_write_text
from simulate import synthetic_panel_file

runner = CliRunner()
COMMANDS_READING_A_PANEL = ("fit", "freq", "report", "sensitivity")


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _one_line_failure(result, *needles: str, code: int = 2) -> None:
    """Exit `code`, no traceback (the exception is typer's exit), and every needle in the joined output."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    text = " ".join(result.output.split())
    for needle in needles:
        assert needle in text, (needle, text)


@pytest.fixture(scope="module")
def good_panel(tmp_path_factory) -> Path:
    return synthetic_panel_file(tmp_path_factory.mktemp("panel") / "panel.nc", n_dyads=30, years=6)


def _damaged_files(folder: Path, good: Path) -> dict[str, Path]:
    """One file per kind of damage, named after it."""
    folder.mkdir(parents=True, exist_ok=True)
    content = good.read_bytes()
    files = {
        "empty": b"",
        "truncated": content[: len(content) // 2],
        "text": b"ccode,year\n2,1990\n",
        "png": b"\x89PNG\r\n\x1a\n" + bytes(200),
    }
    paths = {}
    for kind, data in files.items():
        paths[kind] = folder / f"{kind}.nc"
        paths[kind].write_bytes(data)
    paths["foreign"] = folder / "foreign.nc"
    xr.Dataset({"x": ("row", np.arange(3.0))}).to_netcdf(paths["foreign"], engine="h5netcdf")
    paths["folder"] = folder / "a_folder.nc"
    paths["folder"].mkdir()
    return paths


def _command_args(command: str, panel: Path, tmp_path: Path) -> list:
    out = tmp_path / "out"
    fits = tmp_path / "no_fits"
    common = {"fit": ["--model", "m1"], "freq": ["--models", "m1"], "report": ["--model", "m1", "--fits", fits],
              "sensitivity": ["--model", "m1", "--fits", fits, "--scheduler", "serial"]}[command]
    return [command, *common, "--panel", panel, "--out", out]


@pytest.mark.parametrize("kind", ["missing", "empty", "truncated", "text", "png", "foreign", "folder", "a fit"])
@pytest.mark.parametrize("command", COMMANDS_READING_A_PANEL)
def test_damaged_panel_file_is_one_line_naming_it(command, kind, good_panel, tmp_path):
    damaged = _damaged_files(tmp_path / "bad", good_panel)
    if kind == "missing":
        panel = tmp_path / "absent.nc"
    elif kind == "a fit":
        panel = tmp_path / "bad" / "fit_as_panel.nc"
        xr.DataTree.from_dict({"posterior": xr.Dataset({"coef": ("draw", np.zeros(3))})}).to_netcdf(
            panel, engine="h5netcdf")
    else:
        panel = damaged[kind]
    result = _run(*_command_args(command, panel, tmp_path))
    _one_line_failure(result, panel.name)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["empty", "truncated", "text", "png", "foreign", "no attrs"])
@pytest.mark.parametrize("command", ["report", "sensitivity"])
def test_damaged_fit_file_is_one_line_naming_it(command, kind, good_panel, tmp_path):
    fits = tmp_path / "fits"
    fits.mkdir()
    target = fits / "m1_marginal.nc"
    if kind == "no attrs":
        xr.DataTree.from_dict({"posterior": xr.Dataset({"coef": ("draw", np.zeros(3))})}).to_netcdf(
            target, engine="h5netcdf")
    else:
        _damaged_files(tmp_path / "bad", good_panel)[kind].rename(target)
    args = [command, "--model", "m1", "--fits", fits, "--panel", good_panel, "--out", tmp_path / "out"]
    if command == "sensitivity":
        args += ["--scheduler", "serial"]
    _one_line_failure(_run(*args), "m1_marginal.nc")
    assert not (tmp_path / "out").exists()


def test_damaged_frequentist_results_are_one_line_naming_them(good_panel, tmp_path):
    """A readable (minimal) fit, so that the report gets as far as the frequentist results."""
    from simulate import fake_record

    from models.specs import PAPER_MODELS

    fits = tmp_path / "fits"
    fits.mkdir()
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"coef": ("draw", np.zeros(3))})})
    from data_prep.panel import read_panel
    from inference.record import PanelRef

    tree.attrs = fake_record(PAPER_MODELS["m1"], panel=PanelRef.of(read_panel(good_panel), str(good_panel))).to_attrs()
    tree.to_netcdf(fits / "m1_marginal.nc", engine="h5netcdf")
    freq = tmp_path / "fits.json"
    freq.write_text('{"fits": [{"model": "m1"}]')
    result = _run("report", "--model", "m1", "--fits", fits, "--panel", good_panel, "--freq", freq,
                  "--out", tmp_path / "out")
    _one_line_failure(result, "fits.json: not frequentist results written by 'coupproof freq'")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------------ outputs


def test_data_output_on_a_raw_file_or_inside_the_data_folder_is_refused(tmp_path):
    raw = tmp_path / "raw"
    (raw / "coups_pt").mkdir(parents=True)
    source = raw / "coups_pt" / "ptcoups.csv"
    source.write_text("ccode,year,coup\n2,1990,1\n")
    for out in (source, raw / "panel.nc"):
        result = _run("data", "--data-dir", raw, "--out", out, "--start", "1990", "--end", "1991")
        _one_line_failure(result, "would overwrite or write inside the input")
    assert source.read_text() == "ccode,year,coup\n2,1990,1\n"
    assert not (raw / "panel.nc").exists()


@pytest.mark.parametrize("case", ["folder as file", "file as folder", "under a file", "unwritable"])
def test_output_paths_that_cannot_be_written_fail_before_work(case, good_panel, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    if case == "folder as file":  # data writes one file: an existing folder cannot be it
        (tmp_path / "panel.nc").mkdir()
        result = _run("data", "--data-dir", tmp_path, "--out", tmp_path / "panel.nc")
        _one_line_failure(result, "panel.nc: the panel file is an existing folder")
        return
    out = {"file as folder": a_file, "under a file": a_file / "fits",
           "unwritable": Path("/proc/coupproof-test/fits")}[case]
    result = _run("fit", "--model", "m1", "--panel", good_panel, "--out", out)
    message = {"file as folder": "the fits folder is an existing file", "under a file": "is a file, not a folder",
               "unwritable": "cannot write there"}[case]
    _one_line_failure(result, str(out), message)


@pytest.mark.parametrize("kind", ["symlink to a raw file", "fifo", "device"])
def test_outputs_onto_a_symlink_fifo_or_device_are_refused(kind, tmp_path):
    """`--out` replaces only regular files: a link to a raw file, a FIFO or a device node is left as it was."""
    raw = tmp_path / "raw"
    (raw / "coups_pt").mkdir(parents=True)
    source = raw / "coups_pt" / "ptcoups.csv"
    source.write_text("ccode,year,coup\n2,1990,1\n")
    out = tmp_path / "panel.nc"
    if kind == "symlink to a raw file":
        out.symlink_to(source)
        expected = "panel.nc: the panel is a symbolic link"
    elif kind == "fifo":
        os.mkfifo(out)
        expected = "panel.nc: the panel is not a regular file"
    else:
        out = Path("/dev/null")
        expected = "/dev/null: the panel is not a regular file"
    result = _run("data", "--data-dir", raw, "--out", out, "--start", "1990", "--end", "1991")
    _one_line_failure(result, expected)
    assert source.read_text() == "ccode,year,coup\n2,1990,1\n"
    assert out.is_symlink() or out.is_fifo() or out.is_char_device()


def test_every_writer_refuses_a_symlink_or_special_file_in_an_output_folder(tmp_path):
    """Files written inside an output folder go through atomic_write, which refuses the same targets."""
    from data_prep.io import OutputPathError

    (tmp_path / "target.txt").write_text("keep")
    (tmp_path / "link.txt").symlink_to(tmp_path / "target.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    for name in ("link.txt", "pipe.txt"):
        with pytest.raises(OutputPathError, match=f"{name}: the output is"):
            atomic_write_text(tmp_path / name, "new")
    assert (tmp_path / "target.txt").read_text() == "keep" and (tmp_path / "link.txt").is_symlink()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_an_existing_output_file_or_folder_may_be_replaced(tmp_path):
    """Rerunning a command over its own earlier outputs is allowed (make data twice)."""
    from data_prep.io import check_output

    (tmp_path / "panel.nc").write_text("old")
    (tmp_path / "fits").mkdir()
    assert check_output(tmp_path / "panel.nc", folder=False) == tmp_path / "panel.nc"
    assert check_output(tmp_path / "fits", folder=True) == tmp_path / "fits"
    assert check_output(tmp_path / "new" / "deeper" / "panel.nc", folder=False, inputs=[tmp_path / "raw"])
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_unsafe_model_and_prior_set_names_are_refused(good_panel, tmp_path):
    specs = tmp_path / "specs.toml"
    specs.write_text('["../../escape"]\nbase = "m1"\n')
    result = _run("fit", "--model", "../../escape", "--specs", specs, "--panel", good_panel, "--out", tmp_path / "o")
    _one_line_failure(result, "model name '../../escape' cannot be used as a file name")
    sets = tmp_path / "sets.toml"
    sets.write_text('["a/b"]\nslopes = { dist = "Normal", sigma = 2 }\n')
    result = _run("sensitivity", "--model", "m1", "--prior-sets", sets, "--panel", good_panel, "--out", tmp_path / "o")
    _one_line_failure(result, "prior set 'a/b' cannot be used as a file name")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "1e7"])
def test_non_finite_or_extreme_prior_parameters_fail_before_sampling(value, good_panel, tmp_path):
    priors = tmp_path / "priors.toml"
    priors.write_text(f'[slopes]\ndist = "Normal"\nsigma = {value}\n')
    result = _run("fit", "--model", "m1", "--priors", priors, "--panel", good_panel, "--out", tmp_path / "o")
    expected = "is beyond" if value == "1e7" else "must be a finite number"
    _one_line_failure(result, "priors.toml: [slopes] sigma", expected)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, message", [
    (["fit", "--model", ""], "--model names no model"),
    (["fit", "--model", " , "], "--model names no model"),
    (["fit", "--method", "Marginal"], "model m4: unknown method 'Marginal'; use marginal, plain"),
    (["fit", "--method", ""], "unknown method ''"),
    (["fit", "--adaptation", "full"], "unknown mass matrix adaptation 'full'"),
    (["fit", "--sampler", "NUTPIE"], "unknown sampler 'NUTPIE'"),
    (["freq", "--models", ","], "--models names no model"),
    (["report", "--ppc-draws", "0"], "--ppc-draws must be at least 1"),
    (["sensitivity", "--model", "m1", "--scheduler", "not-an-address"], "cannot reach the Dask scheduler at not-an-address"),
    (["sensitivity", "--chains", "0"], "chains must be a whole number from 1 to 64, got 0"),
])
def test_unusual_option_values_are_one_line(args, message, good_panel, tmp_path):
    result = _run(*args, "--panel", good_panel, "--out", tmp_path / "o")
    _one_line_failure(result, message)
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------------------------ writes


def test_concurrent_writes_to_one_output_both_finish_with_a_complete_file(tmp_path):
    target = tmp_path / "out" / "table.csv"
    both_writing = threading.Barrier(2)
    temporaries = []

    def writer(text: str):
        def write(tmp: Path):
            temporaries.append(tmp)
            tmp.write_text(text)
            both_writing.wait(timeout=10)  # both temporary files exist at once
        atomic_write(target, write)

    texts = ["a" * 100_000, "b" * 100_000]
    threads = [threading.Thread(target=writer, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(temporaries)) == 2  # each run its own temporary file
    assert target.read_text() in texts
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.csv"]


def test_an_interrupted_write_leaves_neither_output_nor_temporary_file(tmp_path):
    target = tmp_path / "panel.nc"

    def interrupted(tmp: Path):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert list(tmp_path.iterdir()) == []
    atomic_write_text(target, "complete")
    assert target.read_text() == "complete" and [p.name for p in tmp_path.iterdir()] == ["panel.nc"]


# While the log density compiles, and while sampling (make test-slow).
@pytest.mark.parametrize("wait", [0.5, pytest.param(4.0, marks=pytest.mark.slow)])
def test_ctrl_c_exits_130_and_saves_nothing(good_panel, tmp_path, wait):
    out = tmp_path / "fits"
    command = [sys.executable, "-m", "coupproof.cli", "fit", "--model", "m1", "--panel", str(good_panel),
               "--out", str(out), "--draws", "1000000", "--tune", "1000"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "COLUMNS": "200"})
    lines = []
    try:
        for line in process.stdout:  # wait until the fit has started
            lines.append(line)
            if "Fitting" in line:
                break
        time.sleep(wait)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)
    finally:
        process.kill()  # never leave a sampler running behind a failed test
    output = "".join(lines) + rest
    assert process.returncode == 130, output[-2000:]
    assert "interrupted (SIGINT)" in output and "internal error" not in output and "Traceback" not in output
    assert not out.exists() or [p for p in out.iterdir()] == []


# ------------------------------------------------------------------------------------------------ properties

INTEGERS = st.one_of(st.integers(-10, 10), st.integers(-2**40, 2**40), st.sampled_from([0, 1, 64, 65, 2**32]))
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 1.0, 0.5, -0.1]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(draws=INTEGERS, tune=INTEGERS, chains=INTEGERS, seed=INTEGERS, target_accept=FLOATS, loglik_every=INTEGERS)
def test_fit_numeric_options_are_checked_before_any_work(tmp_path, draws, tune, chains, seed, target_accept,
                                                         loglik_every):
    """Whatever the numbers, fit exits 2 with one line: either naming the bad option or, when every option is
    valid, the missing panel (so nothing is sampled before the options are checked)."""
    result = _run("fit", "--model", "m1", "--panel", tmp_path / "absent.nc", "--out", tmp_path / "o",
                  "--draws", draws, "--tune", tune, "--chains", chains, "--seed", seed,
                  "--target-accept", repr(target_accept), "--loglik-every", loglik_every)
    valid = (1 <= draws <= 1_000_000 and 1 <= tune <= 1_000_000 and 1 <= chains <= 64 and 0 <= seed < 2**32
             and 0 < target_accept < 1 and loglik_every >= 1)
    _one_line_failure(result, "absent.nc: panel file not found" if valid else "")
    if not valid:
        assert "panel file not found" not in result.output
    assert not (tmp_path / "o").exists()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.integers(-5000, 5000), end=st.integers(-5000, 5000), max_polity=st.integers(-1000, 1000))
def test_data_numeric_options_are_checked_before_any_work(tmp_path, start, end, max_polity):
    result = _run("data", "--data-dir", tmp_path / "nowhere", "--out", tmp_path / "p.nc", "--start", start,
                  "--end", end, "--max-polity-a", max_polity)
    _one_line_failure(result)
    valid = 1951 <= start and start + 1 <= end <= 2010 and -10 <= max_polity
    assert ("does not exist" in result.output) == valid
    assert not (tmp_path / "p.nc").exists()


PRIOR_VALUES = st.one_of(FLOATS, st.integers(-10**9, 10**9), st.booleans(), st.text(max_size=3))
PRIOR_ENTRIES = st.fixed_dictionaries(
    {"dist": st.sampled_from(["Normal", "StudentT", "Cauchy", "HalfNormal", "HalfStudentT", "HalfCauchy",
                              "Exponential", "Gamma"])},
    optional={name: PRIOR_VALUES for name in ("mu", "sigma", "nu", "beta", "alpha", "lam", "base_rate")})


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode().replace('"', '\\"') + '"'
    return str(value)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(group=st.sampled_from(["intercept", "slopes", "dyad_sd", "count_alpha"]), entry=PRIOR_ENTRIES)
def test_prior_files_are_valid_or_refused_with_a_prior_error(tmp_path, group, entry):
    """Any prior table either loads into priors whose arguments are finite and whose log density at the initial
    point is finite, or raises PriorError naming the file; never another exception."""
    import pymc as pm

    from models.priors import PriorError, load_priors

    path = tmp_path / "priors.toml"
    path.write_text(f"[{group}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in entry.items()))
    try:
        priors = load_priors(path)
    except PriorError as exc:
        assert str(path) in str(exc)
        return
    prior = priors[group]
    assert all(math.isfinite(v) for v in prior.kwargs.values())
    with pm.Model() as model:
        prior.create_scale("x") if group == "dyad_sd" else prior.create("x")
    assert np.isfinite(model.compile_logp()(model.initial_point()))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))


def test_an_interrupt_leaves_no_destructor_noise(tmp_path):
    """A library object half-built when Ctrl-C lands (llvmlite's, mid-compilation) fails in its destructor at exit:
    the command still exits 130 with its one line, and Python prints no 'Exception ignored' traceback."""
    script = tmp_path / "interrupted.py"
    script.write_text(
        "import signal\nimport typer\nfrom coupproof.cli import guarded\n\n\n"
        "class HalfBuilt:\n    def __del__(self):\n        raise AttributeError('no _as_parameter_')\n\n\n"
        "kept = []\n\n\ndef body():\n    kept.append(HalfBuilt())\n    signal.raise_signal(signal.SIGINT)\n\n\n"
        "app = typer.Typer()\napp.command()(guarded(body))\napp()\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 130, run.stdout + run.stderr
    assert "interrupted (SIGINT)" in run.stderr
    assert "Exception ignored" not in run.stderr and "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_follow_the_umask_and_a_replaced_file_keeps_its_mode(umask, tmp_path):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "new.txt", "x")
        assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o666 & ~umask
        (tmp_path / "shared.txt").write_text("old")
        (tmp_path / "shared.txt").chmod(0o644)
        atomic_write_text(tmp_path / "shared.txt", "new")
        assert (tmp_path / "shared.txt").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(old)


@pytest.mark.parametrize("args, needle", [
    (["fit", "--foo", "1"], "error: No such option: --foo"),
    (["fit", "--draws", "abc"], "error: Invalid value for '--draws'"),
    (["nosuch"], "error: No such command 'nosuch'."),
])
def test_usage_errors_are_one_line(args, needle):
    result = _run(*args)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and result.output.startswith(needle), result.output


def test_a_huge_value_is_cut_in_the_message(good_panel, tmp_path):
    """A prior file naming a 2 MB distribution: the message keeps its start and end, not the whole value."""
    priors = tmp_path / "huge.toml"
    priors.write_text('[intercept]\ndist = "' + "N" * 2_000_000 + '"\n')
    result = _run("fit", "--model", "m1", "--panel", good_panel, "--priors", priors, "--out", tmp_path / "fits")
    assert result.exit_code == 2 and len(result.output) < 1000 and "characters left out" in result.output


def test_a_symlink_loop_is_a_user_error(good_panel, tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    result = _run("fit", "--model", "m1", "--panel", good_panel, "--out", loop / "fits")
    _one_line_failure(result, "loop")


def test_a_full_disk_is_one_line_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    """A simulated ENOSPC in the middle of a write: OutputPathError naming the output, no temporary file."""
    import errno

    from data_prep.io import OutputPathError

    def fill(tmp):
        tmp.write_text("partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OutputPathError, match="out.nc: cannot be written \\(no space left on device\\); nothing"):
        atomic_write(tmp_path / "out.nc", fill)
    assert list(tmp_path.iterdir()) == []


def test_an_output_name_too_long_fails_before_work(good_panel, tmp_path):
    result = _run("data", "--data-dir", tmp_path, "--out", tmp_path / ("p" * 250 + ".nc"))
    _one_line_failure(result, "a name in the path is longer than the file system allows")


@pytest.fixture
def tiny_disk(tmp_path):
    """A 512 kB tmpfs, where the test may mount one (root with the capability); skipped otherwise."""
    import shutil

    folder = tmp_path / "tiny"
    folder.mkdir()
    if shutil.which("mount") is None or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_panel_onto_a_full_disk_is_a_user_error(tiny_disk):
    """A real full disk under h5py (which gives no errno): one error, no temporary file."""
    from data_prep.io import OutputPathError

    with pytest.raises(OutputPathError, match="p.nc: cannot be written \\(no space left on device\\)"):
        synthetic_panel_file(tiny_disk / "p.nc", n_dyads=2000, years=20)
    assert list(tiny_disk.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--design", "pact", "--start", "2000"], "--start does not apply to --design pact"),
    (["--design", "country_year", "--sscore", "weighted"], "--sscore does not apply to --design country_year"),
    (["--design", "dyad", "--dca-start", "entry_into_force"], "--dca-start does not apply to --design dyad"),
    (["--start", "2000", "--end", "2000"], "the year window 2000-2000 must span at least 2 years"),
])
def test_options_of_another_design_and_a_one_year_window_are_refused(args, message, tmp_path):
    result = _run("data", "--data-dir", tmp_path, "--out", tmp_path / "p.nc", *args)
    _one_line_failure(result, message)


def test_a_polity_limit_of_ten_and_above_keeps_every_state(tmp_path):
    result = _run("data", "--data-dir", tmp_path / "nowhere", "--out", tmp_path / "p.nc", "--max-polity-a", "100")
    _one_line_failure(result, "does not exist")  # accepted: the data folder is what fails


def test_long_work_whose_outputs_would_not_fit_is_refused_before_it_starts(tmp_path):
    from data_prep.io import OutputPathError, check_free_space

    check_free_space(tmp_path / "new" / "fits", 1_000)  # fits: no error
    with pytest.raises(OutputPathError, match="fits: not enough free space for the fits \\(about 1,000,000,000,000 MB"):
        check_free_space(tmp_path / "fits", 10**18, "fits")
