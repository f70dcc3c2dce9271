"""The command line: a real short `data` build, `freq` and `fit` on small panels, and bad input giving one clear
error and no output file."""

from __future__ import annotations


import numpy as np
import pytest
from typer.testing import CliRunner

from coupproof.cli import app
from raw_mirror import symlink_mirror

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args))


def _copy_raw(raw_dir, tmp_path):
    return symlink_mirror(raw_dir, tmp_path / "raw")


@pytest.mark.integration
def test_data_command_builds_and_checks(raw_dir, tmp_path):
    out = tmp_path / "panel.nc"
    result = _run("data", "--data-dir", str(raw_dir), "--out", str(out), "--start", "1960", "--end", "1962",
                  "--check")
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert (tmp_path / "panel_check.md").is_file() and (tmp_path / "panel_check.csv").is_file()
    assert "Panel check against McWard & Yoon (2023)" in result.output


def test_missing_data_dir_is_one_clear_error(tmp_path):
    out = tmp_path / "panel.nc"
    result = _run("data", "--data-dir", str(tmp_path / "nowhere"), "--out", str(out))
    assert result.exit_code == 2
    assert "raw data directory" in result.output and "does not exist" in result.output
    assert not out.exists()


def test_unknown_option_value(tmp_path):
    result = _run("data", "--data-dir", str(tmp_path), "--sscore", "squared", "--out", str(tmp_path / "p.nc"))
    assert result.exit_code == 2
    assert "sscore" in result.output


def test_year_window_outside_coverage(tmp_path):
    result = _run("data", "--data-dir", str(tmp_path), "--end", "2016", "--out", str(tmp_path / "p.nc"))
    assert result.exit_code == 2
    assert "outside the sources' joint coverage" in result.output


@pytest.mark.integration
def test_renamed_column_names_file_and_leaves_nothing(raw_dir, tmp_path):
    mirror = _copy_raw(raw_dir, tmp_path)
    target = mirror / "coups_pt" / "ptcoups.csv"
    text = (raw_dir / "coups_pt" / "ptcoups.csv").read_text()
    target.unlink()
    target.write_text(text.replace("coup,version", "event,version", 1))
    out = tmp_path / "build" / "panel.nc"
    result = _run("data", "--data-dir", str(mirror), "--out", str(out), "--start", "1960", "--end", "1961")
    assert result.exit_code == 2
    assert "ptcoups.csv" in result.output and "missing required column(s) coup" in result.output
    assert not out.exists()
    assert not list(tmp_path.glob("build/.*.tmp"))


@pytest.mark.integration
def test_missing_and_unreadable_files(raw_dir, tmp_path):
    mirror = _copy_raw(raw_dir, tmp_path)
    (mirror / "gwf" / "GWF_AllPoliticalRegimes.dta").unlink()
    result = _run("data", "--data-dir", str(mirror), "--out", str(tmp_path / "p.nc"))
    assert result.exit_code == 2
    assert "GWF_AllPoliticalRegimes.dta: raw file missing" in result.output

    (mirror / "gwf" / "GWF_AllPoliticalRegimes.dta").write_bytes(b"not a stata file")
    result = _run("data", "--data-dir", str(mirror), "--out", str(tmp_path / "p.nc"))
    assert result.exit_code == 2
    assert "GWF_AllPoliticalRegimes.dta: cannot be read as dta" in result.output
    assert not (tmp_path / "p.nc").exists()


def test_freq_unknown_model_name(tmp_path):
    result = _run("freq", "--panel", str(tmp_path / "p.nc"), "--models", "m1,m7", "--out", str(tmp_path / "f"))
    assert result.exit_code == 2
    assert "unknown model 'm7'; known models: m1, m2, m3, m4, h1, h2" in result.output
    assert not (tmp_path / "f").exists()


def test_freq_missing_or_old_panel(tmp_path):
    import xarray as xr

    result = _run("freq", "--panel", str(tmp_path / "absent.nc"), "--out", str(tmp_path / "f"))
    assert result.exit_code == 2
    assert "absent.nc: panel file not found" in result.output
    old = tmp_path / "old.nc"
    xr.Dataset({"x": ("dyad", [1.0])}, attrs={"schema_version": 0}).to_netcdf(old, engine="h5netcdf")
    result = _run("freq", "--panel", str(old), "--out", str(tmp_path / "f"))
    assert result.exit_code == 2
    assert "panel schema 0 is not 1; rebuild it" in result.output
    assert not (tmp_path / "f").exists()


def test_broken_concession_table(tmp_path):
    bad = tmp_path / "items.toml"
    bad.write_text("not = [valid toml")
    result = _run("data", "--data-dir", str(tmp_path), "--concession-config", str(bad), "--out", str(tmp_path / "p.nc"))
    assert result.exit_code == 2
    assert "items.toml: not valid TOML" in result.output


def test_fit_command_on_a_small_panel(tmp_path):
    from simulate import synthetic_panel_file

    panel = synthetic_panel_file(tmp_path / "panel.nc")
    out = tmp_path / "fits"
    result = _run("fit", "--model", "m1", "--panel", str(panel), "--out", str(out),
                  "--draws", "60", "--tune", "60", "--loglik-every", "20", "--strict", "--retries", "1")
    # 60 draws, then 120 on the retry, cannot reach ESS 400: the fit is flagged (in yellow where the ESS alone falls
    # short, in red where R-hat does too: chance decides which at 120 draws) and --strict exits 1, but the longer fit
    # is saved
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "Refitting m1 at 120 draws and 120 tuning iterations per chain" in text
    assert "below the diagnostics gate m1: ess_bulk < 400" in text or "FIT FAILED ITS DIAGNOSTICS m1:" in text
    from inference.store import load_fit

    fit = load_fit(out / "m1_marginal.nc")
    assert fit.attrs["panel_checksum"] and fit.attrs["diagnostics_passed"] == 0
    assert fit["posterior"].sizes["draw"] == 120
    first = load_fit(out / "m1_marginal.attempt1.nc")  # the failed attempt, kept beside the final fit
    assert first["posterior"].sizes["draw"] == 60 and first.attrs["diagnostics_passed"] == 0
    assert set(np.asarray(fit["posterior"]["coef"].coords["coef_term"])) == {
        "Intercept", "counterbalancing_a", "threat_a", "counterbalancing_a:threat_a"}


def test_an_ess_shortfall_alone_is_reported_with_the_draws_that_would_meet_the_gate(capsys):
    """Only effective sample sizes short: yellow, with about how many draws per chain would reach ESS 400; R-hat
    too: the red banner."""
    import pandas as pd

    from coupproof import display
    from inference.diagnostics import Diagnostics

    table = pd.DataFrame({"mean": [0.1], "sd": [1.0], "hdi94_lb": [-1.0], "hdi94_ub": [1.0], "r_hat": [1.0],
                          "ess_bulk": [220.0], "ess_tail": [250.0], "mcse_mean": [0.05]}, index=["coef[x]"])
    short = Diagnostics(table, 0, [1.0], ["ess_bulk < 400 for coef[x]"])
    display.print_diagnostics("m1", short, 3.0, draws=120)
    text = " ".join(capsys.readouterr().err.split())
    assert "below the diagnostics gate m1: ess_bulk < 400 for coef[x]" in text
    assert "about 300 draws per chain would reach it" in text  # 120 x 1.1 x 400 / 220 = 240, up to hundreds
    failed = Diagnostics(table, 0, [1.0], ["R-hat > 1.01 for coef[x]", "ess_bulk < 400 for coef[x]"])
    display.print_diagnostics("m1", failed, 3.0, draws=120)
    assert "FIT FAILED ITS DIAGNOSTICS m1: R-hat > 1.01" in " ".join(capsys.readouterr().err.split())


def test_fit_rejects_an_empty_sample_before_sampling(tmp_path):
    from simulate import synthetic_panel_file

    panel = synthetic_panel_file(tmp_path / "panel.nc")
    result = _run("fit", "--model", "m2", "--panel", str(panel), "--out", str(tmp_path / "fits"))
    assert result.exit_code == 2
    assert "model m2: the estimation sample sample_controls has no rows in this panel" in result.output
    assert not (tmp_path / "fits").exists()


@pytest.fixture(scope="module")
def panel_with_counts(tmp_path_factory):
    """A synthetic panel whose concessions_a holds counts, and a spec file with a model on a missing grouping."""
    from data_prep.panel import content_checksum, read_panel, write_panel
    from simulate import synthetic_panel_file

    root = tmp_path_factory.mktemp("bad_input")
    panel = synthetic_panel_file(root / "panel.nc")
    specs = root / "specs.toml"
    specs.write_text('[bad]\nformula = "new_defense_pact ~ counterbalancing_a + (1 | region)"\n\n'
                     '[counts]\nbase = "m1"\nformula = "concessions_a ~ counterbalancing_a + (1 | dyad)"\n'
                     'sample = ""\n')
    ds = read_panel(panel)
    ds["concessions_a"] = ds["counterbalancing_a"].fillna(0) * 3 // 1  # counts, not 0/1
    ds.attrs["panel_checksum"] = content_checksum(ds)
    write_panel(ds, panel)
    return panel, specs


@pytest.mark.parametrize("args, message", [
    (("--model", "m9"), "unknown model 'm9'"),
    (("--sampler", "stan"), "unknown sampler 'stan'"),
    (("--adaptation", "dense"), "unknown mass matrix adaptation 'dense'"),
    (("--method", "laplace"), "unknown method 'laplace'"),
    (("--model", "bad"), "model bad: the panel has no variable(s) region"),
    (("--model", "counts"), "model counts: outcome concessions_a has values other than 0 and 1"),
    (("--specs", "absent.toml"), "absent.toml: model spec file not found"),
    (("--priors", "absent.toml"), "absent.toml: prior file not found"),
    (("--retries", "-1"), "retries must be a whole number from 0 to 3, got -1"),
    (("--retries", "4"), "retries must be a whole number from 0 to 3, got 4"),
    (("--retries", "2", "--draws", "400000"), "retries: retry 2 would sample at 4 times the draws and tuning"),
])
def test_fit_bad_input_is_refused_before_sampling(panel_with_counts, tmp_path, args, message):
    panel, specs = panel_with_counts
    if "--specs" not in args:
        args = (*args, "--specs", str(specs))
    result = _run("fit", "--model", "m1", "--panel", str(panel), "--out", str(tmp_path / "fits"), *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "fits").exists()


@pytest.mark.slow  # 10 s of fitting; make test-slow
def test_fit_with_own_spec_grouping_and_year_effects(tmp_path):
    from simulate import synthetic_panel_file

    panel = synthetic_panel_file(tmp_path / "panel.nc")
    specs = tmp_path / "specs.toml"
    specs.write_text('[mine]\nbase = "m1"\nlabel = "Model 1 by State A"\n'
                     'formula = "new_defense_pact ~ counterbalancing_a * threat_a + (1 | state_a) + (1 | year)"\n')
    out = tmp_path / "fits"
    result = _run("fit", "--model", "mine", "--specs", str(specs), "--panel", str(panel),
                  "--out", str(out), "--draws", "40", "--tune", "40")
    assert result.exit_code == 0, result.output
    from inference.record import fit_record
    from inference.store import load_fit

    fit = load_fit(out / "mine_marginal.nc")
    assert fit_record(fit).spec.group == "state_a" and "year_effect" in fit["posterior"] and "state_a_sd" in fit["posterior"]
    assert "substitutes" in fit.attrs and fit.attrs["panel_path"] == str(panel)


@pytest.mark.slow  # 11 s of fitting; make test-slow
def test_fit_a_formula_on_your_own_table(tmp_path):
    """coupproof fit --data table.csv --formula ... --family ...: the fit records the table, and load_fit finds it."""
    import pandas as pd

    import coupproof as cp

    rng = np.random.default_rng(2)
    n = 600
    table = pd.DataFrame({"ccode1": rng.integers(2, 30, n), "ccode2": rng.integers(30, 60, n), "x": rng.normal(size=n)})
    table["y"] = rng.binomial(1, 1 / (1 + np.exp(-(-1.0 + 0.7 * table.x))))
    table.to_csv(tmp_path / "dyads.csv", index=False)
    common = ("--data", str(tmp_path / "dyads.csv"), "--out", str(tmp_path / "fits"))
    result = _run("fit", *common, "--formula", "y ~ x + (1 | ccode1:ccode2)", "--family", "bernoulli", "--model",
                  "mine", "--draws", "60", "--tune", "60")
    assert result.exit_code == 0, result.output
    fit = cp.load_fit(tmp_path / "fits" / "mine_marginal.nc")
    assert fit.record.panel.path == str((tmp_path / "dyads.csv").resolve())
    assert fit.model.data.n_groups == table.groupby(["ccode1", "ccode2"]).ngroups
    assert list(fit.group_effects().columns[-2:]) == ["ccode1", "ccode2"]
    report = _run("report", "--fit", str(tmp_path / "fits" / "mine_marginal.nc"), "--out", str(tmp_path / "report"),
                  "--ppc-draws", "20")  # no panel: the fit's own table
    assert report.exit_code == 0, report.output
    assert "mine" in (tmp_path / "report" / "report.html").read_text()
    refused = _run("fit", *common, "--panel", str(tmp_path / "dyads.csv"), "--formula", "y ~ x")
    assert refused.exit_code == 2 and "give --data or --panel, not both" in refused.output
    assert "family is for a formula" in _run("fit", "--family", "cumulative").output
