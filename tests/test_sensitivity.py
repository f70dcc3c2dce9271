"""Prior sensitivity: power-scaling on a conjugate normal model against its closed form, prior-set errors, the
Dask path against the serial one, the cache, and the command's bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from scipy.stats import norm
from typer.testing import CliRunner

from coupproof.cli import app
from inference.fitting import SamplerSettings
from inference.refits import Refit, SensitivityError, check_builds, load_prior_sets, run_refits
from inference.store import load_fit
from models.design import model_data
from models.priors import Prior, PriorError, load_priors
from simulate import SPEC, simulated_panel

runner = CliRunner()


def _cjs(m0, s0, m1, s1, low, high) -> float:
    """ArviZ's cumulative Jensen-Shannon distance between two normal distributions, computed exactly. Like ArviZ's
    estimator, it integrates the CDFs over the range of the draws [low, high] (its normalising bound depends on
    that range) and takes the larger of the two orientations (x and -x)."""
    x = np.linspace(low, high, 400_001)
    dx = x[1] - x[0]

    def one_way(p, q):
        p_int, q_int = p.sum() * dx, q.sum() * dx
        mid = np.log2(0.5 * (p + q), where=(p + q) > 0, out=np.zeros_like(p))
        log_p = np.log2(p, where=p > 0, out=np.zeros_like(p))
        log_q = np.log2(q, where=q > 0, out=np.zeros_like(q))
        pq = max(0.0, (p * (log_p - mid)).sum() * dx + 0.5 / np.log(2) * (q_int - p_int))
        qp = max(0.0, (q * (log_q - mid)).sum() * dx + 0.5 / np.log(2) * (p_int - q_int))
        return np.sqrt((pq + qp) / (p_int + q_int))

    return max(one_way(norm.cdf(x, m0, s0), norm.cdf(x, m1, s1)), one_way(norm.sf(x, m0, s0), norm.sf(x, m1, s1)))


def _closed_form(scale_prior: bool, low: float, high: float, n=5, total=5.0, tau=1.0, alphas=(0.99, 1.01)):
    """The sensitivity (finite-difference derivative of the CJS distance in log2 alpha) from the exact normal
    posteriors under power-scaling of the prior or the likelihood."""
    def posterior(alpha):
        precision = (alpha / tau**2 + n) if scale_prior else (1 / tau**2 + alpha * n)
        v = 1 / precision
        return v * total * (1 if scale_prior else alpha), np.sqrt(v)

    m, s = posterior(1.0)
    lower = _cjs(m, s, *posterior(alphas[0]), low, high) / -np.log2(alphas[0])
    upper = _cjs(m, s, *posterior(alphas[1]), low, high) / np.log2(alphas[1])
    return (lower + upper) / 2


def test_power_scaling_matches_the_conjugate_closed_form():
    """theta ~ N(0, 1), five observations N(theta, 1) with mean 1: the power-scaled posteriors are normal, so the
    sensitivity ArviZ estimates from exact posterior draws must match the one from the exact distributions."""
    import arviz_stats as azs

    rng = np.random.default_rng(0)
    y = np.array([0.2, 1.4, 0.9, 1.7, 0.8])
    v = 1 / (1 + y.size)
    theta = rng.normal(v * y.sum(), np.sqrt(v), (4, 20_000))
    tree = xr.DataTree.from_dict({
        "posterior": xr.Dataset({"theta": (("chain", "draw"), theta)}),
        "log_prior": xr.Dataset({"theta": (("chain", "draw"), norm.logpdf(theta))}),
        "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), norm.logpdf(y, theta[..., None]))})})
    for group, scale_prior in (("prior", True), ("likelihood", False)):
        estimate = float(azs.psense(tree, group=group)["theta"])
        expected = _closed_form(scale_prior, theta.min(), theta.max(), total=y.sum())
        assert estimate == pytest.approx(expected, rel=0.05), group
    # with five observations against a unit prior, the likelihood dominates
    assert float(azs.psense(tree, group="likelihood")["theta"]) > float(azs.psense(tree, group="prior")["theta"])


@pytest.mark.parametrize("text, message", [
    ('[wide]\nslope = { dist = "Normal", sigma = 2 }\n', r"\[wide\]: unknown prior parameter\(s\) slope"),
    ('[wide]\nslopes = { dist = "Gauss", sigma = 2 }\n', r"\[wide\]: \[slopes\] unknown distribution 'Gauss'"),
    ('[default]\nslopes = { dist = "Normal", sigma = 2 }\n', r"\[default\] is reserved"),
    ('wide = 3\n', r"\[wide\] must be a table of prior groups"),
    ('[wide\n', "not valid TOML"),
])
def test_prior_set_errors(tmp_path, text, message):
    path = tmp_path / "sets.toml"
    path.write_text(text)
    with pytest.raises(PriorError, match=message):
        load_prior_sets(path)


def test_packaged_prior_sets_parse_and_build():
    sets = load_prior_sets()
    assert list(sets)[0] == "default" and len(sets) >= 6
    assert sets["slopes_cauchy"]["slopes"].dist == "Cauchy"
    assert sets["regularising"] == load_priors("regularising") and sets["wide"] == load_priors("wide")  # base = ...
    assert sets["group_sd_tight"]["slopes"] == sets["default"]["slopes"]  # groups not named keep the defaults
    data = model_data(simulated_panel(n_dyads=10, years=3), SPEC)
    for name, priors in sets.items():  # every packaged set builds (the half-Cauchy twin once did not)
        check_builds(data, Refit(name, priors, SamplerSettings()))


def test_a_set_whose_model_cannot_be_built_fails_naming_it():
    """A prior that parses but cannot be built (here a Gamma without beta, bypassing the parser) is caught before
    any fitting, with the set named."""
    data = model_data(simulated_panel(n_dyads=10, years=3), SPEC)
    priors = {**load_prior_sets()["default"], "group_sd": Prior("Gamma", {"alpha": 2.0})}
    message = r"prior set \[broken\]: the t1 model cannot be built \(ValueError: Incompatible parameterization"
    with pytest.raises(SensitivityError, match=message):
        check_builds(data, Refit("broken", priors, SamplerSettings()))


@pytest.fixture(scope="module")
def two_refits():
    data = model_data(simulated_panel(n_dyads=60, years=8, beta=(-3.0, 0.8, 0.5, -0.6), sigma=1.0), SPEC)
    sets = load_prior_sets()
    settings = SamplerSettings(draws=25, tune=25, chains=2, seed=7)
    return data, [Refit(name, sets[name], settings) for name in ("default", "wide")]


@pytest.mark.slow
def test_dask_refits_equal_serial_refits_and_are_cached(two_refits, tmp_path):
    data, refits = two_refits
    done = []
    serial = run_refits(data, refits, tmp_path / "serial", "x", "serial")
    on_dask = run_refits(data, refits, tmp_path / "dask", "x", None, lambda name, cached: done.append(cached))
    assert done == [False, False]
    for name in ("default", "wide"):
        a, b = load_fit(serial[name]), load_fit(on_dask[name])
        np.testing.assert_array_equal(np.asarray(a["posterior"]["coef"]), np.asarray(b["posterior"]["coef"]))
        assert a.attrs["prior_set"] == name and "log_prior" in a.children
    assert not np.array_equal(np.asarray(load_fit(serial["default"])["posterior"]["coef"]),
                              np.asarray(load_fit(serial["wide"])["posterior"]["coef"]))
    again = []
    run_refits(data, refits, tmp_path / "serial", "x", "serial", lambda name, cached: again.append(cached))
    assert again == [True, True]  # nothing refitted


@pytest.mark.slow  # 12 s of fitting; make test-slow
def test_a_failed_fit_is_refitted_at_twice_the_length(two_refits, tmp_path):
    """25 draws cannot reach ESS 400: with one retry the job is refitted at 50 draws and 50 tuning iterations
    (cached under its own key) and that attempt is returned, still flagged; without retries the first is."""
    from inference.refits import passed, run_fits

    data, refits = two_refits
    done = []
    first = run_fits([(data, refits[0])], tmp_path, "x", "serial", retries=0)
    retried = run_fits([(data, refits[0])], tmp_path, "x", "serial",
                       lambda job, cached: done.append((job[1].settings.draws, cached)), retries=1)
    assert done == [(25, True), (50, False)]
    assert retried[0] != first[0] and not passed(retried[0])
    assert json.loads(load_fit(retried[0]).attrs["sampler"])["draws"] == 50


@pytest.mark.slow  # 12 s of fitting; make test-slow
def test_prior_set_results_of_a_model_without_an_interaction(tmp_path):
    """A state-grouped model without an interaction: the table follows its first slope and names the group sd after
    the grouping, there are no effect curves (the figure says so), and power-scaling covers its parameters."""
    from models.specs import ModelSpec
    from reports import prior_sensitivity as ps
    from reports.posterior_plots import save

    spec = ModelSpec("t4", "y ~ cb + threat + (1 | state_a)", sample="sample")
    data = model_data(simulated_panel(n_dyads=60, years=8, beta=(-3.0, 0.8, 0.5, -0.6), sigma=1.0), spec)
    sets = load_prior_sets()
    settings = SamplerSettings(draws=25, tune=25, chains=2, seed=7)
    refits = [Refit(name, sets[name], settings) for name in ("default", "group_sd_wide")]
    fits = {name: load_fit(path) for name, path in run_refits(data, refits, tmp_path / "cache", "x", "serial").items()}
    table = ps.prior_set_table(fits)
    assert list(table["prior_set"]) == ["default", "group_sd_wide"] and set(table["term"]) == {"cb"}
    assert "state_a_sd" in table and "dyad_sd" not in table
    curves = ps.effect_curves_by_set(fits, data)
    assert curves.empty
    for plot, argument in ((ps.plot_effects_by_set, curves), (ps.plot_forest, table)):
        assert save(plot(argument), tmp_path / f"{plot.__name__}.png").stat().st_size > 5_000
    scaling = ps.power_scaling(fits["default"])
    assert {"coef[cb]", "state_a_sd"} <= set(scaling["parameter"])


def test_sensitivity_command_bad_input(tmp_path, monkeypatch):
    from simulate import synthetic_panel_file

    panel = synthetic_panel_file(tmp_path / "panel.nc")
    bad = tmp_path / "sets.toml"
    bad.write_text('[x]\nslopes = { dist = "Normal", sd = 1 }\n')
    result = runner.invoke(app, ["sensitivity", "--model", "m1", "--panel", str(panel), "--prior-sets", str(bad),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "Normal takes sigma, mu; unknown: sd" in " ".join(result.output.split())
    monkeypatch.setattr("inference.refits.HANDSHAKE_TIMEOUT", 1.0)  # nothing listens there: no need to wait 10 s
    result = runner.invoke(app, ["sensitivity", "--model", "m1", "--panel", str(panel), "--scheduler",
                                 "tcp://127.0.0.1:9", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
    assert not (tmp_path / "out").exists()


def test_sensitivity_command_writes_tables_and_figures(tmp_path):
    from simulate import synthetic_fits

    panel, fits = synthetic_fits(tmp_path)
    sets = tmp_path / "sets.toml"
    sets.write_text('[slopes_wide]\nslopes = { dist = "Normal", sigma = 2.5 }\n')
    out = tmp_path / "out"
    result = runner.invoke(app, ["sensitivity", "--model", "m1", "--panel", str(panel), "--fits", str(fits),
                                 "--prior-sets", str(sets), "--scheduler", "serial", "--out", str(out),
                                 "--draws", "40", "--tune", "40"])
    assert result.exit_code == 0, result.output
    import pandas as pd

    table = pd.read_csv(out / "prior_sets_m1.csv")
    assert list(table["prior_set"]) == ["default", "slopes_wide"] and table["pr_negative"].between(0, 1).all()
    assert set(table["term"]) == {"counterbalancing_a:threat_a"} and table["dyad_sd"].gt(0).all()
    curves = pd.read_csv(out / "prior_sets_m1_effects.csv")
    assert set(curves["focal"]) == {"counterbalancing_a"} and set(curves["moderator"]) == {"threat_a"}
    scaling = pd.read_csv(out / "power_scaling.csv")
    assert {"prior", "likelihood", "diagnosis"} <= set(scaling.columns)
    # the intercept as its prior states it (the average row's log-odds), not the x = 0 one derived from the slopes
    assert "intercept_centred" in set(scaling["parameter"]) and "coef[Intercept]" not in set(scaling["parameter"])
    for name in ("prior_sets_m1_forest.png", "prior_sets_m1_effects.png", "power_scaling_m1.png"):
        assert (out / name).stat().st_size > 10_000
    from round_trip import assert_round_trip

    from coupproof.stages import PriorComparisonResult, SensitivityResult
    from reports.bayes_report import sensitivity_section

    result = assert_round_trip(SensitivityResult, out, tmp_path / "copy")
    assert list(result.prior_sets) == ["m1"] and len(result.prior_sets["m1"].figures) == 3
    section = sensitivity_section(result, PriorComparisonResult.read(out), ["m1"])
    assert "m1 under alternative prior sets" in section and section.count("data:image/png;base64,") == 3
    assert sensitivity_section(None, None, ["m1"]) is None
    assert sensitivity_section(result, None, ["m3"]) is None  # only the reported models' results are shown


def test_an_unreachable_scheduler_leaves_no_default_client():
    """A malformed address fails with one clear error and leaves dask as it was: no default client, no scheduler
    setting that later computations in the process (a panel build) would try to reach."""
    import dask
    import distributed

    from inference.refits import check_scheduler

    before = dask.config.get("scheduler", None)
    with pytest.raises(SensitivityError, match="cannot reach the Dask scheduler at not-an-address"):
        check_scheduler("not-an-address")
    assert dask.config.get("scheduler", None) == before
    with pytest.raises(ValueError, match="No clients found"):
        distributed.default_client()


def test_a_port_that_speaks_http_is_refused_within_the_handshake_timeout(monkeypatch):
    """A server that accepts the connection and answers HTTP (never Dask's handshake): an error after the timeout,
    not a hang."""
    import socket
    import threading
    import time

    import inference.refits as refits

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held = []

    def answer_http():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)
            connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=answer_http, daemon=True).start()
    monkeypatch.setattr(refits, "HANDSHAKE_TIMEOUT", 1.0)
    began = time.perf_counter()
    try:
        with pytest.raises(SensitivityError, match=f"Dask scheduler at tcp://127.0.0.1:{server.getsockname()[1]}"):
            refits.check_scheduler(f"tcp://127.0.0.1:{server.getsockname()[1]}")
    finally:
        server.close()
        for connection in held:
            connection.close()
    assert time.perf_counter() - began < 5


def test_a_real_scheduler_answers_the_handshake():
    from distributed import LocalCluster

    from inference.refits import check_scheduler

    with LocalCluster(n_workers=0, processes=True, dashboard_address=None) as cluster:
        check_scheduler(cluster.scheduler_address)  # no error
