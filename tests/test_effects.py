"""Predictions, comparisons and slopes (inference.effects) from hand-made posteriors, against closed forms: the
logit's probability, slope and cross-partial, the population average against numerical integration, the hurdle's
expected count, the ordinal category probabilities, contrasts against differences of predictions, the link scale,
the grids and the design's derivative; and the plot of their frames (reports.posterior_plots.plot_effects)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from scipy.integrate import quad  # noqa: E402
from scipy.special import expit  # noqa: E402
from scipy.stats import nbinom, norm, poisson  # noqa: E402

from inference.effects import (PosteriorDraws, comparisons, design_derivative, focal_levels,  # noqa: E402
                               grid_frame, observed_range, odds_ratios, predictions, slopes, truncated_count_mean)
from models.design import model_data  # noqa: E402
from models.specs import ModelSpec  # noqa: E402
from reports.posterior_plots import plot_effects  # noqa: E402
from simulate import simulated_panel  # noqa: E402

CHAINS, DRAWS = 2, 15


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """The simulated dyad panel plus a 0/1 control, a count, an ordinal outcome and a categorical variable."""
    frame = simulated_panel(n_dyads=40, years=5, seed=3)
    rng = np.random.default_rng(7)
    frame["ally"] = rng.integers(0, 2, len(frame)).astype(float)
    frame["count"] = frame["y"] * (1 + rng.poisson(1.5, len(frame)))
    frame["level"] = rng.integers(0, 3, len(frame))
    frame["region"] = rng.choice(["east", "north", "west"], len(frame))
    return frame


def fake_fit(data, seed: int = 0, sd: float | None = 1.2, **extra) -> xr.DataTree:
    """A posterior of CHAINS x DRAWS known draws: coefficients near 0.5 (intercept near -1), the group sd near
    `sd`, and the named extra variables as (dim, centre) pairs or scalars."""
    rng = np.random.default_rng(seed)
    shape = (CHAINS, DRAWS)
    terms = list(data.X.columns)
    centre = np.array([-1.0 if t == "Intercept" else 0.5 for t in terms])
    post = {"coef": (("chain", "draw", "coef_term"), centre + 0.3 * rng.standard_normal((*shape, len(terms))))}
    coords = {"chain": np.arange(CHAINS), "draw": np.arange(DRAWS), "coef_term": terms}
    if sd is not None:
        post[data.spec.group_sd] = (("chain", "draw"), sd * np.exp(0.2 * rng.standard_normal(shape)))
    for name, value in extra.items():
        if isinstance(value, tuple):
            dim, labels, base = value
            coords[dim] = labels
            post[name] = (("chain", "draw", dim), base + 0.2 * rng.standard_normal((*shape, len(labels))))
        else:
            post[name] = (("chain", "draw"), value * np.exp(0.1 * rng.standard_normal(shape)))
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(post, coords=coords)})
    tree.attrs["model"] = data.spec.name
    return tree


def coef_draws(tree, name: str = "coef", dim: str = "coef_term") -> pd.DataFrame:
    values = tree["posterior"][name].stack(sample=("chain", "draw")).transpose("sample", ...)
    return pd.DataFrame(values.to_numpy(), columns=list(tree["posterior"][dim].values))


def flat(tree, name: str) -> np.ndarray:
    return tree["posterior"][name].stack(sample=("chain", "draw")).to_numpy()


@pytest.fixture(scope="module")
def logit(frame):
    data = model_data(frame, ModelSpec("t", "y ~ cb * threat + ally + (1 | dyad)", sample="sample"))
    return data, fake_fit(data)


def test_conditional_probability_by_hand(logit):
    data, tree = logit
    result = predictions(tree, data, {"threat": [0.0, 0.5, 1.0]}, kinds=("conditional",))
    b = coef_draws(tree)
    cb, ally = data.rows["cb"].mean(), data.rows["ally"].mean()
    for row in result.itertuples():
        z = row.threat
        p = expit(b["Intercept"] + b["cb"] * cb + b["threat"] * z + b["cb:threat"] * cb * z + b["ally"] * ally)
        assert row.estimate == pytest.approx(p.mean(), rel=1e-12)
        assert row.lower <= row.estimate <= row.upper
    assert list(result.columns) == ["threat", "kind", "quantity", "estimate", "lower", "upper", "model"]
    assert set(result["quantity"]) == {"Pr(y=1)"} and set(result["model"]) == {"t"}


def test_grid_is_the_cartesian_product_at_typical_values(logit):
    data, _ = logit
    grid = grid_frame(data, {"threat": "range", "ally": None}, points=7)
    assert len(grid) == 14 and sorted(grid["ally"].unique()) == [0.0, 1.0]
    assert grid["threat"].min() == data.rows["threat"].min() and grid["threat"].max() == data.rows["threat"].max()
    assert np.allclose(grid["cb"], data.rows["cb"].mean())
    with pytest.raises(ValueError, match="'nope' is not a variable"):
        grid_frame(data, {"nope": [1]})


def test_draws_are_an_xarray_and_thinning_keeps_every_kth(logit):
    data, tree = logit
    values = predictions(tree, data, {"threat": [0.2, 0.4]}, draws=True)
    assert values.dims == ("kind", "quantity", "sample", "point")
    assert values.sizes["sample"] == CHAINS * DRAWS and list(values["threat"].values) == [0.2, 0.4]
    thinned = predictions(tree, data, {"threat": [0.2, 0.4]}, every=3, draws=True)
    assert thinned.sizes["sample"] == CHAINS * len(range(0, DRAWS, 3))
    np.testing.assert_allclose(thinned.isel(sample=slice(0, 5)), values.isel(sample=slice(0, DRAWS, 3)))


def test_logit_slope_with_interaction_is_p_one_minus_p_times_coefficients(logit):
    data, tree = logit
    z = np.array([0.1, 0.5, 0.9])
    values = slopes(tree, data, "cb", by={"threat": z}, kinds=("conditional",), draws=True)
    b = coef_draws(tree)
    cb, ally = data.rows["cb"].mean(), data.rows["ally"].mean()
    eta = (b["Intercept"].to_numpy()[:, None] + b["cb"].to_numpy()[:, None] * cb + np.outer(b["threat"], z)
           + np.outer(b["cb:threat"], z) * cb + b["ally"].to_numpy()[:, None] * ally)
    p = expit(eta)
    expected = p * (1 - p) * (b["cb"].to_numpy()[:, None] + np.outer(b["cb:threat"], z))
    np.testing.assert_allclose(values.sel(kind="conditional", quantity="Pr(y=1)"), expected, rtol=1e-6)


def test_cross_partial_matches_the_closed_form(logit):
    """d2 p / dx dz = p(1-p)(1-2p)(b1 + b3 z)(b2 + b3 x) + p(1-p) b3 for eta = ... + b1 x + b2 z + b3 x z."""
    data, tree = logit
    z = np.array([0.1, 0.5, 0.9])
    result = slopes(tree, data, "cb", by={"threat": z}, kinds=("conditional",), cross_partial=True, draws=True)
    assert list(result["quantity"].values) == ["Pr(y=1)", "cross-partial: Pr(y=1)"]
    b = {k: v.to_numpy()[:, None] for k, v in coef_draws(tree).items()}
    x, ally = data.rows["cb"].mean(), data.rows["ally"].mean()
    p = expit(b["Intercept"] + b["cb"] * x + b["threat"] * z + b["cb:threat"] * x * z + b["ally"] * ally)
    d_x, d_z = b["cb"] + b["cb:threat"] * z, b["threat"] + b["cb:threat"] * x
    expected = p * (1 - p) * (1 - 2 * p) * d_x * d_z + p * (1 - p) * b["cb:threat"]
    np.testing.assert_allclose(result.sel(kind="conditional", quantity="cross-partial: Pr(y=1)"), expected,
                               rtol=1e-4, atol=1e-7)


def test_population_average_matches_numerical_integration(logit):
    data, tree = logit
    z = np.array([0.0, 1.0])
    values = predictions(tree, data, {"threat": z}, draws=True)
    slope = slopes(tree, data, "cb", by={"threat": z}, draws=True)
    b, sds = coef_draws(tree), flat(tree, "dyad_sd")
    cb, ally = data.rows["cb"].mean(), data.rows["ally"].mean()
    for s in (0, 7):
        c = b.iloc[s]
        for j, zj in enumerate(z):
            eta = c["Intercept"] + c["cb"] * cb + c["threat"] * zj + c["cb:threat"] * cb * zj + c["ally"] * ally
            p_ref = quad(lambda u: expit(eta + sds[s] * u) * norm.pdf(u), -12, 12, epsabs=1e-13)[0]
            d_ref = quad(lambda u: expit(eta + sds[s] * u) * expit(-eta - sds[s] * u) * norm.pdf(u), -12, 12,
                         epsabs=1e-13)[0] * (c["cb"] + c["cb:threat"] * zj)
            assert float(values.sel(kind="population", quantity="Pr(y=1)")[s, j]) == pytest.approx(p_ref, rel=1e-9)
            assert float(slope.sel(kind="population", quantity="Pr(y=1)")[s, j]) == pytest.approx(d_ref, rel=1e-6)


def test_comparison_of_a_binary_variable_is_a_difference_of_predictions(logit):
    data, tree = logit
    z = [0.2, 0.8]
    diff = comparisons(tree, data, "ally", by={"threat": z}, draws=True)
    one = predictions(tree, data, {"threat": z, "ally": [1.0]}, draws=True)
    zero = predictions(tree, data, {"threat": z, "ally": [0.0]}, draws=True)
    np.testing.assert_allclose(diff.sel(contrast="1 - 0"), one.values - zero.values, rtol=1e-12)
    table = comparisons(tree, data, "ally", by={"threat": z})
    assert list(table.columns[:4]) == ["threat", "variable", "contrast", "kind"]
    assert set(table["contrast"]) == {"1 - 0"} and len(table) == 4
    np.testing.assert_allclose(table["estimate"], diff.mean("sample").transpose("contrast", "kind", "quantity",
                                                                                "point").values.ravel())


def test_default_contrast_of_a_numeric_variable_is_one_sd(logit):
    data, tree = logit
    table = comparisons(tree, data, "cb", kinds=("conditional",))
    low, high = data.rows["cb"].mean(), data.rows["cb"].mean() + data.rows["cb"].std()
    assert list(table["contrast"]) == [f"{high:g} - {low:g}"]
    explicit = comparisons(tree, data, "cb", values=(low, high), kinds=("conditional",))
    assert table["estimate"].iloc[0] == pytest.approx(explicit["estimate"].iloc[0], rel=1e-12)


def test_hurdle_expected_count_is_probability_times_truncated_mean(frame):
    data = model_data(frame, ModelSpec("h", "count ~ cb * threat + (1 | dyad)", family="hurdle_poisson"))
    terms = list(data.count_X.columns)
    tree = fake_fit(data, count_coef=("count_coef_term", terms, 0.2))
    values = predictions(tree, data, {"threat": [0.0, 1.0]}, draws=True)
    assert list(values["quantity"].values) == ["Pr(y>0)", "E[y | y>0]", "E[y]"]
    np.testing.assert_allclose(values.sel(quantity="E[y]"),
                               values.sel(quantity="Pr(y>0)") * values.sel(quantity="E[y | y>0]"), rtol=1e-12)
    np.testing.assert_allclose(values.sel(kind="population", quantity="E[y | y>0]"),
                               values.sel(kind="conditional", quantity="E[y | y>0]"))
    c = coef_draws(tree, "count_coef", "count_coef_term").iloc[0]
    cb = data.rows["cb"].mean()
    mu = np.exp(c["Intercept"] + c["cb"] * cb + c["threat"] + c["cb:threat"] * cb)  # threat = 1
    by_sum = sum(k * poisson.pmf(k, mu) for k in range(1, 200)) / poisson.sf(0, mu)
    assert float(values.sel(kind="conditional", quantity="E[y | y>0]")[0, 1]) == pytest.approx(by_sum, rel=1e-10)


def test_negative_binomial_truncated_mean():
    mu, alpha = np.array([0.4, 3.0]), np.array([0.7, 5.0])
    n, p = alpha, alpha / (alpha + mu)  # scipy's NB with the mean mu and dispersion alpha of PyMC
    expected = [sum(k * nbinom.pmf(k, n[i], p[i]) for k in range(1, 2000)) / nbinom.sf(0, n[i], p[i])
                for i in range(2)]
    np.testing.assert_allclose(truncated_count_mean(mu, alpha), expected, rtol=1e-10)
    np.testing.assert_allclose(truncated_count_mean(mu), mu / (1 - np.exp(-mu)), rtol=1e-12)


def test_cumulative_probabilities_sum_to_one_and_match_logistic_differences(frame):
    data = model_data(frame, ModelSpec("o", "level ~ cb * threat + (1 | dyad)", family="cumulative"))
    tree = fake_fit(data, cutpoints=("cut", ["0|1", "1|2"], np.array([-0.5, 0.8])))
    cutpoints = tree["posterior"]["cutpoints"]
    tree["posterior"]["cutpoints"] = cutpoints.copy(data=np.sort(cutpoints.values, axis=-1))
    values = predictions(tree, data, {"threat": [0.0, 0.5, 1.0]}, draws=True)
    names = ["Pr(y=0)", "Pr(y=1)", "Pr(y=2)"]
    assert list(values["quantity"].values) == [*names, "E[category index]"]
    np.testing.assert_allclose(values.sel(quantity=names).sum("quantity"), 1.0, rtol=1e-12)
    b, cut = coef_draws(tree), tree["posterior"]["cutpoints"].stack(sample=("chain", "draw")).T.to_numpy()
    cb, z = data.rows["cb"].mean(), np.array([0.0, 0.5, 1.0])
    eta = (b["cb"].to_numpy()[:, None] * cb + np.outer(b["threat"], z) + np.outer(b["cb:threat"], z) * cb)
    low, high = expit(cut[:, [0]] - eta), expit(cut[:, [1]] - eta)
    conditional = values.sel(kind="conditional")
    np.testing.assert_allclose(conditional.sel(quantity="Pr(y=0)"), low, rtol=1e-12)
    np.testing.assert_allclose(conditional.sel(quantity="Pr(y=1)"), high - low, rtol=1e-10)
    np.testing.assert_allclose(conditional.sel(quantity="E[category index]"), (high - low) + 2 * (1 - high),
                               rtol=1e-10)


def test_model_without_group_has_only_the_conditional_kind(frame):
    data = model_data(frame, ModelSpec("n", "y ~ cb * threat"))
    tree = fake_fit(data, sd=None)
    table = predictions(tree, data, "threat", points=4)
    assert set(table["kind"]) == {"conditional"} and len(table) == 4
    with pytest.raises(ValueError, match="no group intercept"):
        predictions(tree, data, "threat", kinds=("population",))


def test_categorical_variable_levels_and_contrasts(frame):
    data = model_data(frame, ModelSpec("c", "y ~ cb + C(region) + (1 | dyad)"))
    tree = fake_fit(data)
    values = predictions(tree, data, {"region": None}, kinds=("conditional",), draws=True)
    assert list(values["region"].values) == ["east", "north", "west"]
    diff = comparisons(tree, data, "region", kinds=("conditional",), draws=True)
    assert list(diff["contrast"].values) == ["north - east", "west - east"]
    v = values.sel(kind="conditional", quantity="Pr(y=1)")
    np.testing.assert_allclose(diff.sel(contrast="west - east", kind="conditional", quantity="Pr(y=1)")[:, 0],
                               v[:, 2] - v[:, 0], rtol=1e-12)
    with pytest.raises(ValueError, match="categorical"):
        slopes(tree, data, "region")


def test_plot_effects_one_panel_per_quantity(frame, logit):
    data, tree = logit
    table = slopes(tree, data, "cb", by="threat", points=5, cross_partial=True)
    fig = plot_effects(table, labels={"threat": "Threat to B"})
    axes = fig.get_axes()
    assert len(axes) == 2 and axes[0].get_xlabel() == "Threat to B"
    assert len(axes[0].get_lines()) == 2  # conditional and population
    plt.close(fig)
    hurdle = model_data(frame, ModelSpec("h", "count ~ cb * threat + (1 | dyad)", family="hurdle_poisson"))
    fit = fake_fit(hurdle, count_coef=("count_coef_term", list(hurdle.count_X.columns), 0.2))
    fig = plot_effects(predictions(fit, hurdle, {"threat": None}, points=5))
    assert len(fig.get_axes()) == 3
    plt.close(fig)


def test_negative_binomial_hurdle_with_year_effects(frame):
    """The NB2 count part (count_alpha) end to end; year effects are held at zero and need no draws here."""
    spec = ModelSpec("nb", "count ~ cb * threat + (1 | dyad) + (1 | year)", family="hurdle_negbinomial")
    data = model_data(frame, spec)
    tree = fake_fit(data, count_coef=("count_coef_term", list(data.count_X.columns), 0.2), count_alpha=2.0)
    values = predictions(tree, data, {"threat": [0.5]}, kinds=("conditional",), draws=True)
    c, alpha = coef_draws(tree, "count_coef", "count_coef_term").iloc[3], flat(tree, "count_alpha")[3]
    cb = data.rows["cb"].mean()
    mu = np.exp(c["Intercept"] + c["cb"] * cb + 0.5 * c["threat"] + 0.5 * c["cb:threat"] * cb)
    n, p = alpha, alpha / (alpha + mu)
    expected = sum(k * nbinom.pmf(k, n, p) for k in range(1, 2000)) / nbinom.sf(0, n, p)
    assert float(values.sel(kind="conditional", quantity="E[y | y>0]")[3, 0]) == pytest.approx(expected, rel=1e-10)


def test_population_cross_partial_is_the_derivative_of_the_slope(logit):
    data, tree = logit
    z, d = 0.4, 1e-3
    cross = slopes(tree, data, "cb", by={"threat": [z]}, cross_partial=True, draws=True)
    around = slopes(tree, data, "cb", by={"threat": [z - d, z + d]}, draws=True)
    fd = (around.isel(point=1) - around.isel(point=0)) / (2 * d)
    np.testing.assert_allclose(cross.sel(quantity="cross-partial: Pr(y=1)").isel(point=0),
                               fd.sel(quantity="Pr(y=1)"), rtol=1e-4, atol=1e-7)


def test_link_scale_slope_is_the_coefficients_and_the_same_for_both_kinds(logit):
    """d eta / d cb = b_cb + b_int z: the log-odds slope the report shows beside the probability's."""
    data, tree = logit
    z = np.array([0.1, 0.5, 0.9])
    values = slopes(tree, data, "cb", by={"threat": z}, scale="link", draws=True)
    assert list(values["quantity"].values) == ["linear predictor (logit)"]
    b = coef_draws(tree)
    expected = b["cb"].to_numpy()[:, None] + np.outer(b["cb:threat"], z)
    for kind in ("conditional", "population"):
        np.testing.assert_allclose(values.sel(kind=kind, quantity="linear predictor (logit)"), expected, rtol=1e-9)
    with pytest.raises(ValueError, match="unknown scale 'logit'"):
        slopes(tree, data, "cb", by={"threat": z}, scale="logit")


def test_link_scale_of_a_hurdle_has_both_parts_and_odds_ratios_are_its_exponent(frame):
    data = model_data(frame, ModelSpec("h", "count ~ cb * threat + ally + (1 | dyad)", family="hurdle_poisson",
                                       count_formula="~ threat"))
    tree = fake_fit(data, count_coef=("count_coef_term", list(data.count_X.columns), 0.2))
    values = predictions(tree, data, {"threat": [0.0, 1.0]}, kinds=("conditional",), scale="link", draws=True)
    assert list(values["quantity"].values) == ["linear predictor (zero)", "linear predictor (count)"]
    c = coef_draws(tree, "count_coef", "count_coef_term")
    np.testing.assert_allclose(values.sel(kind="conditional", quantity="linear predictor (count)"),
                               c["Intercept"].to_numpy()[:, None] + np.outer(c["threat"], [0.0, 1.0]), rtol=1e-12)
    difference = comparisons(tree, data, "ally", kinds=("conditional",), scale="link", draws=True)
    ratio = odds_ratios(tree, data, "ally")
    assert ratio["odds_ratio"].iloc[0] == pytest.approx(
        float(np.exp(difference.sel(kind="conditional", quantity="linear predictor (zero)")).mean()), rel=1e-12)


def test_draws_made_once_serve_every_call(logit):
    """PosteriorDraws in place of the tree give the same numbers; thinning belongs to making them."""
    data, tree = logit
    draws = PosteriorDraws.from_tree(tree, data, every=2)
    pd.testing.assert_frame_equal(slopes(draws, data, "cb", by="threat", points=4),
                                  slopes(tree, data, "cb", by="threat", points=4, every=2))
    with pytest.raises(ValueError, match="thin the draws when making them"):
        predictions(draws, data, "threat", every=2)


def test_observed_range_and_focal_levels(logit):
    data, _ = logit
    cb = data.rows["cb"]
    assert observed_range(data, "cb", 3) == [cb.min(), (cb.min() + cb.max()) / 2, cb.max()]
    levels = focal_levels(data, "cb")
    assert list(levels.values()) == [0.0, cb.mean(), cb.mean() + cb.std()]
    assert list(levels) == ["none (0)", f"mean ({cb.mean():.2f})", f"mean + 1 sd ({cb.mean() + cb.std():.2f})"]
    assert grid_frame(data, {"threat": None}, points=3)["threat"].tolist() == observed_range(data, "threat", 3)


def test_design_derivative_through_a_transform(frame):
    """y ~ np.log1p(cb) * threat: d design / d cb is 1 / (1 + cb) and threat / (1 + cb), 0 where cb is not read."""
    data = model_data(frame, ModelSpec("t2", "y ~ np.log1p(cb) * threat + (1 | dyad)", sample="sample"))
    rows = grid_frame(data, {"threat": [0.0, 1.0]})
    slope = design_derivative(data, rows, "cb")
    cb = data.rows["cb"].mean()
    np.testing.assert_allclose(slope["np.log1p(cb)"], 1 / (1 + cb), rtol=1e-8)
    np.testing.assert_allclose(slope["np.log1p(cb):threat"], rows["threat"] / (1 + cb), rtol=1e-8)
    assert (slope["Intercept"] == 0).all() and (slope["threat"] == 0).all()
