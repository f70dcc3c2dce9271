"""Predictions, comparisons and slopes from saved Bayesian fits, in the vocabulary of marginaleffects and
bambi.interpret, for every family of the model layer (bernoulli, hurdle_poisson, hurdle_negbinomial, cumulative).

Grid. Every variable the formulas read is held at its typical value (`models.design.typical_values`: the sample
mean, the most common value for categories); the variables named in `at` (or `by`) vary over the cartesian product
of their values. A variable given as None or "range" takes its observed levels when it is categorical or 0/1, and
otherwise `points` evenly spaced values from its observed minimum to its maximum. The design of the grid is
evaluated by `data.new_design`, so transforms, `C(...)` dummies and interactions follow the formula.

Kinds. `conditional`: the group intercept b = 0 (a typical group) and the year effect 0. `population`: averaged over
b ~ N(0, group_sd^2) by the trapezoid rule of `models.quadrature` on u = b / sd (the year effect stays 0). A model
without a group intercept has only the conditional kind (the population rows would be identical and are left out).

Quantities. bernoulli: "Pr(y=1)"; hurdle: "Pr(y>0)", "E[y | y>0]" (the zero-truncated count mean, which has no group
effect, so both kinds agree) and "E[y]" = Pr(y>0) x E[y | y>0]; cumulative: "Pr(y=<category>)" for every category
and "E[category index]" (sum of k Pr(y = k-th category), k = 0..K-1).

Comparisons are differences of predictions between two values of a variable; slopes are central differences
through the design (step 1e-4 x the variable's sd), and the cross-partial d^2 q / (d variable d by) on the outcome's
scale (Ai & Norton 2003) is the four-point mixed difference, reported as quantity "cross-partial: <q>".

Every function computes per-draw values vectorised over draws (every `every`-th draw of each chain) and returns a
tidy frame of posterior means and HDIs; with `draws=True` it returns the draws instead, an `xr.DataArray` with dims
(kind, quantity, sample, point) (comparisons add a leading `contrast`) whose grid variables are coordinates along `point`.
`summarise_draws` turns such an array into the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import cycle

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit

from models.design import ModelData, typical_values
from models.quadrature import QuadratureOptions

from .diagnostics import HDI_PROB as PROB

__all__ = ["KINDS", "PosteriorDraws", "axis_values", "comparisons", "comparison_draws", "grid_frame",
           "group_average", "odds_ratio_draws", "odds_ratios", "panel_labels",
           "plot_effects", "prediction_draws", "predictions", "slope_draws", "slopes", "summarise_draws",
           "truncated_count_mean"]

KINDS = ("conditional", "population")
RANGE = "range"  # an `at` / `by` value asking for the variable's observed range (or levels)
CHUNK = 4_000_000  # draws x points x nodes evaluated at once in the population average (memory bound)
SUMMARY = ("kind", "quantity", "estimate", "lower", "upper", "model", "variable", "contrast")  # non-grid columns


# --------------------------------------------------------------------------------------------------------- draws
@dataclass(frozen=True)
class PosteriorDraws:
    """The posterior draws predictions need, flattened to one row per draw: coefficients (columns named as the
    design's), the group sd (None without a group), the hurdle count part, the ordinal cut points."""

    model: str
    coef: pd.DataFrame
    group_sd: np.ndarray | None = None
    count_coef: pd.DataFrame | None = None
    count_alpha: np.ndarray | None = None
    cutpoints: np.ndarray | None = None

    @classmethod
    def from_tree(cls, tree: xr.DataTree, data: ModelData, every: int = 1) -> "PosteriorDraws":
        """Every `every`-th draw of each chain of the fit's posterior; the group sd is `data.spec.group_sd`."""
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be a whole number >= 1, got {every!r}")
        post = tree["posterior"]
        spec = data.spec

        def flat(name: str) -> np.ndarray:
            values = post[name].isel(draw=slice(None, None, every))
            return values.stack(sample=("chain", "draw")).transpose("sample", ...).to_numpy()

        def table(name: str, dim: str) -> pd.DataFrame:
            return pd.DataFrame(flat(name), columns=[str(t) for t in post[dim].values])

        group_sd = None
        if spec.group is not None:
            if spec.group_sd not in post:
                raise ValueError(f"model {spec.name}: the posterior has no {spec.group_sd} (the formula has "
                                 f"(1 | {spec.group}))")
            group_sd = flat(spec.group_sd)
        family = spec.family_info
        return cls(model=spec.name, coef=table("coef", "coef_term"), group_sd=group_sd,
                   count_coef=table("count_coef", "count_coef_term") if family.is_hurdle else None,
                   count_alpha=flat("count_alpha") if family.is_hurdle and "count_alpha" in post else None,
                   cutpoints=flat("cutpoints") if family.is_ordinal else None)

    @property
    def n_draws(self) -> int:
        return len(self.coef)

    def linear(self, X: pd.DataFrame, count: bool = False) -> np.ndarray:
        """The linear predictor (draws x rows) of design `X`, matching coefficients to columns by name."""
        coef = self.count_coef if count else self.coef
        missing = [c for c in X.columns if c not in coef.columns]
        if missing:
            raise ValueError(f"model {self.model}: the fit has no coefficient for design column(s) "
                             f"{', '.join(missing)}; was it fitted with another formula?")
        return coef[list(X.columns)].to_numpy() @ X.to_numpy().T


# ------------------------------------------------------------------------------------------- integrals and means
def group_average(eta: np.ndarray, sd: np.ndarray | None, options: QuadratureOptions = QuadratureOptions(),
                  derivative: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """E_b[logit^-1(eta + b)], b ~ N(0, sd^2), for every draw (rows of eta, sd one per draw) and column (sd None:
    b = 0); with `derivative`, also its derivative in eta, E_b[p (1 - p)]. One trapezoid rule, sized for the largest
    sd, serves every draw (its spacing in b is then fine enough for all)."""
    if sd is None:
        p = expit(eta)
        return (p, p * (1 - p)) if derivative else p
    rule = options.rule(False, float(np.max(sd)))
    nodes, weights = rule.nodes, np.exp(rule.log_weights)
    prob, slope = np.empty_like(eta, dtype=float), np.empty_like(eta, dtype=float)
    step = max(1, CHUNK // max(1, eta.shape[1] * nodes.size))
    for start in range(0, eta.shape[0], step):
        part = slice(start, start + step)
        p = expit(eta[part, :, None] + sd[part, None, None] * nodes)
        prob[part] = p @ weights
        if derivative:
            slope[part] = (p * (1 - p)) @ weights
    return (prob, slope) if derivative else prob


def truncated_count_mean(mu: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """E[count | count > 0] of a zero-truncated Poisson (alpha None) or NB2 negative binomial (mean mu, dispersion
    alpha as in PyMC)."""
    if alpha is None:
        return mu / -np.expm1(-mu)
    return mu / -np.expm1(alpha * np.log(alpha / (alpha + mu)))


def _quantities(post: PosteriorDraws, data: ModelData, frame: pd.DataFrame, kind: str) -> dict[str, np.ndarray]:
    """Every predicted quantity of the family (draws x grid rows) at the rows of `frame`, of one kind."""
    sd = post.group_sd if kind == "population" else None
    eta = post.linear(data.new_design(frame))
    family = data.spec.family_info
    if family.is_ordinal:
        return _ordinal_quantities(post.cutpoints, eta, sd, data.categories)
    if not family.is_hurdle:
        return {family.quantities[0]: group_average(eta, sd)}
    p_any = group_average(eta, sd)
    mu = np.exp(post.linear(data.new_design(frame, "count"), count=True))
    alpha = None if post.count_alpha is None else post.count_alpha[:, None]
    count_mean = truncated_count_mean(mu, alpha)
    return {"Pr(y>0)": p_any, "E[y | y>0]": count_mean, "E[y]": p_any * count_mean}


def _ordinal_quantities(cutpoints: np.ndarray, eta: np.ndarray, sd: np.ndarray | None,
                        categories: np.ndarray) -> dict[str, np.ndarray]:
    """Category probabilities of the ordinal logit, Pr(y <= k) = logit^-1(c_k - eta - b), and the expected index."""
    n_draws, n_cut = cutpoints.shape
    cdf = group_average((cutpoints[:, :, None] - eta[:, None, :]).reshape(n_draws, -1), sd)
    cdf = cdf.reshape(n_draws, n_cut, -1)
    edges = np.concatenate([np.zeros_like(cdf[:, :1]), cdf, np.ones_like(cdf[:, :1])], axis=1)
    probs = np.diff(edges, axis=1)
    out = {f"Pr(y={_fmt(c)})": probs[:, k] for k, c in enumerate(categories)}
    out["E[category index]"] = np.einsum("skn,k->sn", probs, np.arange(len(categories), dtype=float))
    return out


# ------------------------------------------------------------------------------------------------------- grids
def _is_categorical(data: ModelData, name: str) -> bool:
    """Whether the formulas read `name` as categories (a non-numeric column or `C(name)`)."""
    formulas = [data.spec.parsed] + ([data.spec.count_parsed] if data.spec.count_parsed is not None else [])
    return name in {v for f in formulas for v in f.categorical} or \
        not pd.api.types.is_numeric_dtype(data.rows[name])


def _levels(column: pd.Series) -> list:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return sorted(column.dropna().unique().tolist())


def _is_binary(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and bool(column.dropna().isin([0, 1]).all())


def _check_variable(data: ModelData, name: str) -> None:
    known = [c for c in data.rows.columns if c != data.spec.outcome]
    if name not in known:
        raise ValueError(f"model {data.spec.name}: {name!r} is not a variable of the model; known: "
                         f"{', '.join(known)}")


def axis_values(data: ModelData, name: str, values=None, points: int = 50) -> list:
    """The values of one grid variable: those given (a scalar is one value), or for None / "range" the observed
    levels of a categorical or 0/1 variable and otherwise `points` values evenly spaced over the observed range."""
    _check_variable(data, name)
    column = data.rows[name]
    if values is None or (isinstance(values, str) and values == RANGE):
        if _is_categorical(data, name):
            return _levels(column)
        if _is_binary(column):
            return [0.0, 1.0]
        return np.linspace(column.min(), column.max(), points).tolist()
    if isinstance(values, str) or np.ndim(values) == 0:
        return [values]
    return list(values)


def grid_frame(data: ModelData, at: dict | Sequence[str] | str | None = None, points: int = 50) -> pd.DataFrame:
    """New data: every variable at its typical value, the `at` variables over the cartesian product of their
    values (a name or list of names means each over its range). Categorical columns keep their levels."""
    at = _as_at(at)
    axes = {name: axis_values(data, name, values, points) for name, values in at.items()}
    typical = typical_values(data).drop(data.spec.outcome, errors="ignore")
    product = pd.MultiIndex.from_product(list(axes.values()), names=list(axes)).to_frame(index=False) if axes \
        else pd.DataFrame(index=range(1))
    frame = pd.DataFrame({name: [value] * len(product) for name, value in typical.items() if name not in axes},
                         index=product.index)
    frame = pd.concat([product, frame], axis=1)[list(typical.index)]
    for name in frame.columns:
        dtype = data.rows[name].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            frame[name] = pd.Categorical(frame[name], categories=dtype.categories, ordered=dtype.ordered)
    frame.attrs["grid"] = list(axes)
    return frame


def _as_at(at) -> dict:
    """`at` / `by` as {name: values}: a name or list of names means each over its range."""
    if at is None:
        return {}
    if isinstance(at, str):
        return {at: None}
    if isinstance(at, dict):
        return dict(at)
    return {name: None for name in at}


def _kinds(kinds: Sequence[str] | str, data: ModelData) -> tuple[str, ...]:
    """The kinds asked for, checked; a model without a group intercept has only the conditional kind."""
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"unknown kind(s) {unknown or kinds!r}; use {', '.join(KINDS)}")
    if data.spec.group is None:
        if "conditional" not in kinds:
            raise ValueError(f"model {data.spec.name} has no group intercept: population-averaged predictions "
                             "equal the conditional ones; use kinds=('conditional',)")
        return ("conditional",)
    return tuple(dict.fromkeys(kinds))


# ------------------------------------------------------------------------------------------------ draw arrays
def _draw_array(post: PosteriorDraws, data: ModelData, frame: pd.DataFrame, kinds: tuple[str, ...],
                base: pd.DataFrame | None = None) -> xr.DataArray:
    """Per-draw quantities at the rows of `frame`: dims (kind, quantity, sample, point), the grid variables of
    `base` (default: `frame`; a shifted grid keeps its base's coordinates) as coordinates along point."""
    blocks = {kind: _quantities(post, data, frame, kind) for kind in kinds}
    quantities = list(blocks[kinds[0]])
    values = np.stack([np.stack([blocks[k][q] for q in quantities]) for k in kinds])
    base = frame if base is None else base
    grid = base.attrs.get("grid", [])
    coords = {"kind": list(kinds), "quantity": quantities,
              **{name: ("point", np.asarray(base[name])) for name in grid}}
    return xr.DataArray(values, dims=("kind", "quantity", "sample", "point"), coords=coords,
                        attrs={"model": post.model, "grid": list(grid)})


def prediction_draws(tree: xr.DataTree, data: ModelData, at: dict | Sequence[str] | str | None = None,
                     kinds: Sequence[str] = KINDS, every: int = 1, points: int = 50) -> xr.DataArray:
    """Draws of the predicted quantities on the grid of `at` (see the module docstring): dims (kind, quantity,
    sample, point)."""
    post = PosteriorDraws.from_tree(tree, data, every)
    return _draw_array(post, data, grid_frame(data, at, points), _kinds(kinds, data))


def predictions(tree: xr.DataTree, data: ModelData, at: dict | Sequence[str] | str | None = None,
                kinds: Sequence[str] = KINDS, prob: float = PROB, every: int = 1, points: int = 50,
                draws: bool = False) -> pd.DataFrame | xr.DataArray:
    """Predicted quantities at typical values with the `at` variables varied: one row per grid point, kind and
    quantity with the posterior mean and HDI (or, with `draws`, the draws as from `prediction_draws`)."""
    values = prediction_draws(tree, data, at, kinds, every, points)
    return values if draws else summarise_draws(values, prob)


def _contrast_pairs(data: ModelData, variable: str, values) -> list[tuple]:
    """(low, high) pairs: those given (one pair or a list of pairs), else 0 -> 1 for a 0/1 variable, every other
    level against the first for a categorical one, and mean -> mean + 1 sd otherwise."""
    _check_variable(data, variable)
    column = data.rows[variable]
    if values is not None:
        values = list(values)
        if len(values) == 2 and all(isinstance(v, str) or np.ndim(v) == 0 for v in values):
            return [tuple(values)]
        if not all(not isinstance(p, str) and np.ndim(p) == 1 and len(p) == 2 for p in values):
            raise ValueError(f"values of {variable} must be a pair (low, high) or a list of pairs, got {values!r}")
        return [tuple(p) for p in values]
    if _is_categorical(data, variable):
        levels = _levels(column)
        return [(levels[0], level) for level in levels[1:]]
    if _is_binary(column):
        return [(0.0, 1.0)]
    return [(float(column.mean()), float(column.mean() + column.std()))]


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float, np.integer, np.floating)) else str(value)


def _setting(tree: xr.DataTree, data: ModelData, variable: str, by, kinds: Sequence[str], every: int, points: int):
    """What a comparison or slope of `variable` across `by` works on: the kinds, the grid variables, the draws and
    the grid at typical values."""
    _check_variable(data, variable)
    kinds = _kinds(kinds, data)
    by = _as_at(by)
    if variable in by:
        raise ValueError(f"{variable} cannot be both the effect's variable and in by")
    return kinds, by, PosteriorDraws.from_tree(tree, data, every), grid_frame(data, by, points)


def comparison_draws(tree: xr.DataTree, data: ModelData, variable: str, values=None,
                     by: dict | Sequence[str] | str | None = None, kinds: Sequence[str] = KINDS, every: int = 1,
                     points: int = 25) -> xr.DataArray:
    """Draws of prediction(variable = high) - prediction(variable = low) on the grid of `by`: dims (contrast,
    kind, quantity, sample, point), each contrast labelled "high - low"."""
    kinds, by, post, frame = _setting(tree, data, variable, by, kinds, every, points)
    arrays, labels = [], []
    for low, high in _contrast_pairs(data, variable, values):
        arrays.append(_draw_array(post, data, _set(frame, variable, high), kinds, frame)
                      - _draw_array(post, data, _set(frame, variable, low), kinds, frame))
        labels.append(f"{_fmt(high)} - {_fmt(low)}")
    result = xr.concat(arrays, pd.Index(labels, name="contrast"))
    result.attrs = {"model": post.model, "grid": list(by), "variable": variable, "effect": "comparison"}
    return result


def comparisons(tree: xr.DataTree, data: ModelData, variable: str, values=None,
                by: dict | Sequence[str] | str | None = None, kinds: Sequence[str] = KINDS, prob: float = PROB,
                every: int = 1, points: int = 25, draws: bool = False) -> pd.DataFrame | xr.DataArray:
    """Differences in predictions between two values of `variable` (default: 0 and 1 for a 0/1 variable, each
    level against the first for categories, its mean and mean + 1 sd otherwise), other variables at typical values,
    across the grid of `by`; `values` is a pair (low, high) or a list of pairs."""
    result = comparison_draws(tree, data, variable, values, by, kinds, every, points)
    return result if draws else summarise_draws(result, prob)


def odds_ratio_draws(tree: xr.DataTree, data: ModelData, variable: str, values=None,
                     by: dict | Sequence[str] | str | None = None, every: int = 1, points: int = 25) -> xr.DataArray:
    """Draws of the odds ratio of the logit (or hurdle zero) part between two values of `variable` (as in
    `comparisons`), other variables at typical values, across the grid of `by`: exp of the difference of the linear
    predictors, the same for a typical group and on average (group and year effects cancel). For the cumulative
    family it is the proportional odds ratio of a higher category (the same at every cut point). Dims (contrast,
    sample, point)."""
    _, by, post, frame = _setting(tree, data, variable, by, ("conditional",), every, points)
    arrays, labels = [], []
    for low, high in _contrast_pairs(data, variable, values):
        difference = post.linear(data.new_design(_set(frame, variable, high))) \
            - post.linear(data.new_design(_set(frame, variable, low)))
        arrays.append(np.exp(difference))
        labels.append(f"{_fmt(high)} vs {_fmt(low)}")
    coords = {"contrast": labels, **{name: ("point", np.asarray(frame[name])) for name in by}}
    return xr.DataArray(np.stack(arrays), dims=("contrast", "sample", "point"), coords=coords,
                        attrs={"model": post.model, "grid": list(by), "variable": variable, "effect": "odds ratio"})


def odds_ratios(tree: xr.DataTree, data: ModelData, variable: str, values=None,
                by: dict | Sequence[str] | str | None = None, prob: float = PROB, every: int = 1,
                points: int = 25) -> pd.DataFrame:
    """The odds ratio of `variable` (high vs low value; 1 vs 0 for a 0/1 variable) across the grid of `by`: one row
    per contrast and grid point with the posterior mean, median, HDI and Pr(odds ratio < 1)."""
    draws = odds_ratio_draws(tree, data, variable, values, by, every, points)
    lower, upper = _hdi_bounds(draws, prob)
    table = xr.Dataset({"odds_ratio": draws.mean("sample"), "median": draws.median("sample"), "lower": lower,
                        "upper": upper, "pr_below_1": (draws < 1).mean("sample")}).to_dataframe().reset_index()
    table.insert(0, "variable", variable)
    table["model"] = draws.attrs["model"]
    return table.drop(columns="point")


def _set(frame: pd.DataFrame, name: str, value, shift: float = 0.0) -> pd.DataFrame:
    """A copy of the grid with `name` set to `value` (or, when value is None, shifted by `shift`)."""
    out = frame.copy()
    out[name] = out[name] + shift if value is None else value
    if isinstance(frame[name].dtype, pd.CategoricalDtype):
        out[name] = pd.Categorical(out[name], categories=frame[name].cat.categories, ordered=frame[name].cat.ordered)
    out.attrs = dict(frame.attrs)
    return out


def finite_difference_step(data: ModelData, name: str, step: float) -> float:
    """A finite-difference step of `step` times the variable's sample sd (or `step` where the sd is 0)."""
    if _is_categorical(data, name):
        raise ValueError(f"{name} is categorical: it has no derivative; use comparisons")
    sd = float(data.rows[name].std())
    return step * (sd if np.isfinite(sd) and sd > 0 else 1.0)


def slope_draws(tree: xr.DataTree, data: ModelData, variable: str, by: dict | Sequence[str] | str | None = None,
                kinds: Sequence[str] = KINDS, every: int = 1, points: int = 25, step: float = 1e-4,
                cross_partial: bool = False) -> xr.DataArray:
    """Draws of d prediction / d variable (central difference through the design, step `step` x sd) on the grid of
    `by`: dims (kind, quantity, sample, point). With `cross_partial`, quantities "cross-partial: <q>" add
    d^2 q / (d variable d by) in the first `by` variable (Ai & Norton 2003), by the four-point mixed difference."""
    kinds, by, post, frame = _setting(tree, data, variable, by, kinds, every, points)
    h = finite_difference_step(data, variable, step)

    def at(dx: float, moderator: str | None = None, dz: float = 0.0) -> xr.DataArray:
        shifted = _set(frame, variable, None, dx)
        if moderator is not None:
            shifted = _set(shifted, moderator, None, dz)
        return _draw_array(post, data, shifted, kinds, frame)

    result = (at(h) - at(-h)) / (2 * h)
    if cross_partial:
        if not by:
            raise ValueError("a cross-partial needs a moderator: give by")
        moderator = next(iter(by))
        k = finite_difference_step(data, moderator, step)
        cross = (at(h, moderator, k) - at(h, moderator, -k) - at(-h, moderator, k) + at(-h, moderator, -k)) \
            / (4 * h * k)
        cross = cross.assign_coords(quantity=[f"cross-partial: {q}" for q in cross["quantity"].values])
        result = xr.concat([result, cross], "quantity")
    result.attrs = {"model": post.model, "grid": list(by), "variable": variable, "effect": "slope"}
    return result


def slopes(tree: xr.DataTree, data: ModelData, variable: str, by: dict | Sequence[str] | str | None = None,
           kinds: Sequence[str] = KINDS, prob: float = PROB, every: int = 1, points: int = 25,
           step: float = 1e-4, cross_partial: bool = False, draws: bool = False) -> pd.DataFrame | xr.DataArray:
    """The derivative of every predicted quantity in `variable` (other variables at typical values) across the
    grid of `by` (default 25 points over each `by` variable's range); `cross_partial` adds the derivative of the
    slope in the first `by` variable, on the outcome's scale."""
    result = slope_draws(tree, data, variable, by, kinds, every, points, step, cross_partial)
    return result if draws else summarise_draws(result, prob)


# ------------------------------------------------------------------------------------------------- summaries
def _hdi_bounds(draws: xr.DataArray, prob: float) -> tuple[xr.DataArray, xr.DataArray]:
    """The lower and upper bounds of the HDI of `draws` over their `sample` dim."""
    from arviz_stats import hdi

    bounds = hdi(draws, prob=prob, dim="sample")
    bound = next(d for d in bounds.dims if d not in draws.dims)
    return bounds.isel({bound: 0}, drop=True), bounds.isel({bound: 1}, drop=True)


def summarise_draws(draws: xr.DataArray, prob: float = PROB) -> pd.DataFrame:
    """A tidy frame of an effect's draws: grid columns, (variable, contrast,) kind, quantity, then the posterior
    mean `estimate`, the HDI bounds `lower` and `upper`, and `model`."""
    lower, upper = _hdi_bounds(draws, prob)
    table = xr.Dataset({"estimate": draws.mean("sample"), "lower": lower, "upper": upper}).to_dataframe() \
        .reset_index()
    grid = list(draws.attrs.get("grid", []))
    table["model"] = draws.attrs.get("model", "")
    if "variable" in draws.attrs:
        table["variable"] = draws.attrs["variable"]
    labels = [c for c in ("variable", "contrast") if c in table]
    table = table[[*grid, *labels, "kind", "quantity", "estimate", "lower", "upper", "model"]]
    table.attrs = {k: v for k, v in draws.attrs.items() if k in ("grid", "variable", "effect")}
    return table


# ---------------------------------------------------------------------------------------------------- plots
KIND_COLOURS = {"conditional": "C0", "population": "C1"}
KIND_LABELS = {"conditional": "conditional (group effect 0)", "population": "population-averaged"}


def panel_labels(panel: xr.Dataset) -> dict[str, str]:
    """Axis labels from a panel: each variable's `long_name` attr (its name where it has none)."""
    return {str(name): str(panel[name].attrs.get("long_name", name)) for name in panel.data_vars}


def _panel_title(frame: pd.DataFrame, quantity: str, labels: dict[str, str]) -> str:
    variable = frame.attrs.get("variable")
    name = labels.get(variable, variable)
    if frame.attrs.get("effect") == "slope":
        if quantity.startswith("cross-partial: ") and frame.attrs.get("grid"):
            moderator = labels.get(frame.attrs["grid"][0], frame.attrs["grid"][0])
            return f"d\u00b2 {quantity.removeprefix('cross-partial: ')} / d {name} d {moderator}"
        return f"d {quantity} / d {name}"
    if frame.attrs.get("effect") == "comparison":
        return f"{quantity}: change with {name}"
    return quantity


def plot_effects(frame: pd.DataFrame, x: str | None = None, labels: dict[str, str] | None = None):
    """One panel per quantity: the estimate against `x` (default: the first grid column) with its HDI band,
    conditional and population-averaged in two colours; other grid columns and contrasts give one line each
    (categories on x: points with HDI bars, side by side). Axis labels come from `labels` (e.g.
    `panel_labels(panel)`), else the column names. Returns the figure (not saved, not closed)."""
    import matplotlib.pyplot as plt

    labels = labels or {}
    grid = [c for c in frame.columns if c not in SUMMARY]
    x = x or (grid[0] if grid else None)
    if x is None or x not in frame:
        raise ValueError(f"nothing to plot against: give x, one of the frame's grid columns ({grid or 'none'})")
    lines = [c for c in (*grid, "contrast") if c in frame and c != x]
    quantities = list(dict.fromkeys(frame["quantity"]))
    fig, axes = plt.subplots(1, len(quantities), figsize=(4.2 * len(quantities), 3.4), squeeze=False)
    numeric = pd.api.types.is_numeric_dtype(frame[x])
    positions = None if numeric else {v: i for i, v in enumerate(dict.fromkeys(frame[x]))}
    n_lines = frame.groupby(["kind", *lines], sort=False).ngroups
    for ax, quantity in zip(axes[0], quantities):
        rows = frame[frame["quantity"] == quantity]
        number = 0
        for kind, by_kind in rows.groupby("kind", sort=False):
            styles, markers = cycle(["-", "--", ":", "-."]), cycle("os^D")
            groups = by_kind.groupby(lines, sort=False) if lines else [((), by_kind)]
            for key, line in groups:
                key = key if isinstance(key, tuple) else (key,)
                suffix = ", ".join(f"{labels.get(c, c)}={_fmt(v)}" for c, v in zip(lines, key))
                label = KIND_LABELS.get(kind, kind) + (f"; {suffix}" if suffix else "")
                colour = KIND_COLOURS.get(kind, "C2")
                if numeric:
                    _draw_curve(ax, line.sort_values(x), x, colour, next(styles), label)
                else:
                    offset = 0.3 * ((number + 0.5) / n_lines - 0.5) * 2
                    _draw_points(ax, line, x, positions, offset, colour, next(markers), label)
                number += 1
        if positions is not None:
            ax.set_xticks(list(positions.values()), [_fmt(v) for v in positions])
        ax.set_title(_panel_title(frame, quantity, labels), fontsize=9)
        ax.set_xlabel(labels.get(x, x))
        ax.set_ylabel(_axis_label(frame, quantity))
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _axis_label(frame: pd.DataFrame, quantity: str) -> str:
    effect = frame.attrs.get("effect")
    if effect == "comparison":
        return f"difference in {quantity}"
    if effect == "slope" and not quantity.startswith("cross-partial"):
        return f"slope of {quantity}"
    return quantity


def _draw_curve(ax, line: pd.DataFrame, x: str, colour: str, style: str, label: str) -> None:
    """The estimate as a line over a numeric x with its HDI as a band."""
    ax.plot(line[x], line["estimate"], color=colour, linestyle=style, label=label)
    ax.fill_between(line[x], line["lower"], line["upper"], color=colour, alpha=0.2, linewidth=0)


def _draw_points(ax, line: pd.DataFrame, x: str, positions: dict, offset: float, colour: str, marker: str,
                 label: str) -> None:
    """The estimate as points with HDI bars at the categories of x, shifted by `offset` so lines sit apart."""
    where = np.array([positions[v] for v in line[x]], dtype=float) + offset
    errors = [line["estimate"] - line["lower"], line["upper"] - line["estimate"]]
    ax.errorbar(where, line["estimate"], yerr=errors, color=colour, fmt=marker, capsize=3, markersize=4, label=label)
