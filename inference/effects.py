"""Predictions, comparisons and slopes from saved Bayesian fits, in the vocabulary of marginaleffects and
bambi.interpret, for every family of the model layer (bernoulli, hurdle_poisson, hurdle_negbinomial, cumulative).

Grid. Every variable the formulas read is held at its typical value (`models.design.typical_values`: the sample
mean, the most common value for categories); the variables named in `at` (or `by`) vary over the cartesian product
of their values. A variable given as None or "range" takes its observed levels when it is categorical or 0/1, and
otherwise `points` evenly spaced values from its observed minimum to its maximum (`observed_range`). The design of
the grid is evaluated by `data.new_design`, so transforms, `C(...)` dummies and interactions follow the formula.
`focal_levels` are a numeric variable's 0, mean and mean + 1 sd (the levels of the paper's Figure 3, and the default
contrast of `comparisons`). This module is the only place grids, typical values and finite-difference steps are
made: the report's curves (reports.posterior_effects) and its delta-method curves (reports.frequentist) use them.

Kinds. `conditional`: the group intercept b = 0 (a typical group) and the year effect 0. `population`: averaged over
b ~ N(0, group_sd^2) by the trapezoid rule of `models.quadrature` on u = b / sd (the year effect stays 0). A model
without a group intercept has only the conditional kind (the population rows would be identical and are left out).

Quantities (scale "response"). bernoulli: "Pr(y=1)"; hurdle: "Pr(y>0)", "E[y | y>0]" (the zero-truncated count
mean, which has no group effect, so both kinds agree) and "E[y]" = Pr(y>0) x E[y | y>0]; cumulative:
"Pr(y=<category>)" for every category and "E[category index]" (sum of k Pr(y = k-th category), k = 0..K-1). On
scale "link" the quantities are each part's linear predictor, "linear predictor (<part>)" (`link_quantity`): the
log-odds of a logit part, the log mean of a count part, the location of the ordinal logit; group effects add on
this scale and average to 0, so both kinds agree.

Comparisons are differences of predictions between two values of a variable; slopes are central differences
through the design (step `STEP` x the variable's sd), and the cross-partial d^2 q / (d variable d by) on the
outcome's scale (Ai & Norton 2003) is the four-point mixed difference, reported as quantity "cross-partial: <q>".
`design_derivative` is the same central difference of the design itself (for delta-method bands).

Every function takes a saved fit's DataTree, or the `PosteriorDraws` made from one (to reuse them across calls),
computes per-draw values vectorised over draws (every `every`-th draw of each chain) and returns a tidy frame of
posterior means and HDIs; with `draws=True` it returns the draws instead, an `xr.DataArray` with dims
(kind, quantity, sample, point) (comparisons add a leading `contrast`) whose grid variables are coordinates along
`point`. `summarise_draws` turns such an array into the frame. Plots of these frames are in the reports layer
(reports.posterior_plots.plot_effects).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit

from models.design import ModelData, typical_values
from models.families import Part
from models.quadrature import QuadratureOptions

from .diagnostics import HDI_PROB as PROB

__all__ = ["CURVE_POINTS", "EFFECT_POINTS", "KINDS", "PREDICTION_POINTS", "SCALES", "STEP", "SUMMARY_COLUMNS",
           "PosteriorDraws", "axis_values", "comparison_draws", "comparisons", "design_derivative",
           "finite_difference_step", "focal_levels", "format_value", "grid_frame", "group_average", "link_quantity",
           "observed_range", "odds_ratio_draws", "odds_ratios", "prediction_draws", "predictions", "slope_draws",
           "slopes", "summarise_draws", "truncated_count_mean"]

KINDS = ("conditional", "population")
SCALES = ("response", "link")  # the outcome's quantities, or each part's linear predictor
RANGE = "range"  # an `at` / `by` value asking for the variable's observed range (or levels)
CHUNK = 4_000_000  # draws x points x nodes evaluated at once in the population average (memory bound)
SUMMARY_COLUMNS = ("kind", "quantity", "estimate", "lower", "upper", "model", "variable", "contrast")  # non-grid
# The finite-difference step, in sds of the variable, of slopes, cross-partials and the design's derivative (and of
# calibration's interaction effect). A central difference errs by about (step x sd x slope of eta)^2 / 6 relative
# from truncation (below 1e-8 for the paper's coefficients) and by eps / step from rounding. The four-point
# cross-partial's rounding grows as eps / step^2, yet at this step it still errs less than at 1e-3 (about 1e-8
# against 5e-7 relative, for Model 4's coefficients at rare-event probabilities), so one step serves all.
STEP = 1e-4
PREDICTION_POINTS = 50  # grid points over a variable's range in predictions
EFFECT_POINTS = 25  # grid points over a `by` variable's range in comparisons and slopes
CURVE_POINTS = 101  # grid points over the moderator's range in the report's effect curves (the paper's figures)


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
        """Every `every`-th draw of each chain of the fit's posterior; the group sd is `data.spec.group_sd` (with
        sampled groupings, the sd of all groupings' intercepts together)."""
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
            # every grouping's intercepts: independent normals, sds combined (group-specific slopes add nothing
            # where their variables sit at their means, as at the typical values; elsewhere this understates the
            # groups' spread: docs/models.md)
            for grouping in spec.parsed.sampled:
                group_sd = np.sqrt(group_sd**2 + flat(f"{grouping.name}_sd") ** 2)
        family = spec.family_info
        return cls(model=spec.name, coef=table("coef", "coef_term"), group_sd=group_sd,
                   count_coef=table("count_coef", "count_coef_term") if family.is_hurdle else None,
                   count_alpha=flat("count_alpha") if family.is_hurdle and "count_alpha" in post else None,
                   cutpoints=flat("cutpoints") if family.is_ordinal else None)

    @classmethod
    def of(cls, fit: xr.DataTree | PosteriorDraws, data: ModelData, every: int = 1) -> PosteriorDraws:
        """The draws of `fit`: a saved fit's tree (every `every`-th draw of each chain) or draws already made,
        taken as they are (thin those when making them: `every` must then be 1)."""
        if not isinstance(fit, PosteriorDraws):
            return cls.from_tree(fit, data, every)
        if every != 1:
            raise ValueError(f"every={every!r} with PosteriorDraws: thin the draws when making them "
                             "(PosteriorDraws.from_tree(tree, data, every))")
        return fit

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
def group_average(eta: np.ndarray, sd: np.ndarray | None, options: QuadratureOptions = QuadratureOptions()
                  ) -> np.ndarray:
    """E_b[logit^-1(eta + b)], b ~ N(0, sd^2), for every draw (rows of eta, sd one per draw) and column (sd None:
    b = 0). One trapezoid rule, sized for the largest sd, serves every draw (its spacing in b is then fine enough
    for all)."""
    if sd is None:
        return expit(eta)
    rule = options.rule(False, float(np.max(sd)))
    nodes, weights = rule.nodes, np.exp(rule.log_weights)
    prob = np.empty_like(eta, dtype=float)
    step = max(1, CHUNK // max(1, eta.shape[1] * nodes.size))
    for start in range(0, eta.shape[0], step):
        part = slice(start, start + step)
        prob[part] = expit(eta[part, :, None] + sd[part, None, None] * nodes) @ weights
    return prob


def truncated_count_mean(mu: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """E[count | count > 0] of a zero-truncated Poisson (alpha None) or NB2 negative binomial (mean mu, dispersion
    alpha as in PyMC)."""
    if alpha is None:
        return mu / -np.expm1(-mu)
    return mu / -np.expm1(alpha * np.log(alpha / (alpha + mu)))


def link_quantity(part: Part) -> str:
    """The name of a part's linear predictor among the quantities of scale "link": 'linear predictor (logit)'."""
    return f"linear predictor ({part.name})"


def _linear_predictors(post: PosteriorDraws, data: ModelData, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each part's linear predictor (draws x grid rows) at the rows of `frame`, named by `link_quantity`: the main
    part's, and a hurdle's count part's from its own design."""
    family = data.spec.family_info
    linear = {link_quantity(family.main): post.linear(data.new_design(frame))}
    if family.is_hurdle:
        linear[link_quantity(family.part("count_coef"))] = post.linear(data.new_design(frame, "count"), count=True)
    return linear


def _quantities(post: PosteriorDraws, data: ModelData, frame: pd.DataFrame, kind: str,
                scale: str = "response") -> dict[str, np.ndarray]:
    """Every quantity of the family on `scale` (draws x grid rows) at the rows of `frame`, of one kind (on the link
    scale both kinds are the linear predictors: group effects add there and average to 0)."""
    linear = _linear_predictors(post, data, frame)
    return linear if scale == "link" else _responses(post, data, linear, kind)


def _responses(post: PosteriorDraws, data: ModelData, linear: dict[str, np.ndarray],
               kind: str) -> dict[str, np.ndarray]:
    """The family's predicted quantities from its parts' linear predictors, of one kind."""
    sd = post.group_sd if kind == "population" else None
    family = data.spec.family_info
    eta = linear[link_quantity(family.main)]
    if family.is_ordinal:
        return _ordinal_quantities(post.cutpoints, eta, sd, data.categories)
    if not family.is_hurdle:
        return {family.quantities[0]: group_average(eta, sd)}
    p_any = group_average(eta, sd)
    alpha = None if post.count_alpha is None else post.count_alpha[:, None]
    count_mean = truncated_count_mean(np.exp(linear[link_quantity(family.part("count_coef"))]), alpha)
    return {"Pr(y>0)": p_any, "E[y | y>0]": count_mean, "E[y]": p_any * count_mean}


def _ordinal_quantities(cutpoints: np.ndarray, eta: np.ndarray, sd: np.ndarray | None,
                        categories: np.ndarray) -> dict[str, np.ndarray]:
    """Category probabilities of the ordinal logit, Pr(y <= k) = logit^-1(c_k - eta - b), and the expected index."""
    n_draws, n_cut = cutpoints.shape
    cdf = group_average((cutpoints[:, :, None] - eta[:, None, :]).reshape(n_draws, -1), sd)
    cdf = cdf.reshape(n_draws, n_cut, -1)
    edges = np.concatenate([np.zeros_like(cdf[:, :1]), cdf, np.ones_like(cdf[:, :1])], axis=1)
    probs = np.diff(edges, axis=1)
    out = {f"Pr(y={format_value(c)})": probs[:, k] for k, c in enumerate(categories)}
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


def observed_range(data: ModelData, name: str, points: int = PREDICTION_POINTS) -> list[float]:
    """`points` values evenly spaced from a numeric variable's observed minimum to its maximum."""
    _check_variable(data, name)
    column = data.rows[name].astype(float)
    return np.linspace(column.min(), column.max(), points).tolist()


def focal_levels(data: ModelData, name: str) -> dict[str, float]:
    """A numeric variable at 0, its mean and its mean + 1 sd, by label ('none (0)', 'mean (<mean>)', 'mean + 1 sd
    (<mean + sd>)', to two decimals): the levels of the paper's Figure 3; the last two are the default contrast of
    `comparisons`."""
    _check_variable(data, name)
    column = data.rows[name].astype(float)
    mean, sd = column.mean(), column.std()
    return {"none (0)": 0.0, f"mean ({mean:.2f})": mean, f"mean + 1 sd ({mean + sd:.2f})": mean + sd}


def axis_values(data: ModelData, name: str, values=None, points: int = PREDICTION_POINTS) -> list:
    """The values of one grid variable: those given (a scalar is one value), or for None / "range" the observed
    levels of a categorical or 0/1 variable and otherwise `points` values evenly spaced over the observed range."""
    _check_variable(data, name)
    column = data.rows[name]
    if values is None or (isinstance(values, str) and values == RANGE):
        if _is_categorical(data, name):
            return _levels(column)
        if _is_binary(column):
            return [0.0, 1.0]
        return observed_range(data, name, points)
    if isinstance(values, str) or np.ndim(values) == 0:
        return [values]
    return list(values)


def grid_frame(data: ModelData, at: dict | Sequence[str] | str | None = None,
               points: int = PREDICTION_POINTS) -> pd.DataFrame:
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


ROW = "row"  # the coordinate of an effect evaluated at the rows of newdata


def evaluation_frame(data: ModelData, at: dict | Sequence[str] | str | None = None,
                     points: int = PREDICTION_POINTS, newdata: pd.DataFrame | None = None,
                     average: bool = False) -> pd.DataFrame:
    """Where an effect is evaluated: the typical-values grid of `at` (grid_frame); or the rows of `newdata`, each a
    point labelled `row`; or, with `average`, every row of the estimation sample (or of `newdata`), whose per-draw
    values the caller averages (marginaleffects' avg_predictions / avg_comparisons / avg_slopes)."""
    if newdata is None and not average:
        return grid_frame(data, at, points)
    if _as_at(at):
        raise ValueError("at / by set a typical-values grid; with newdata or average=True the rows themselves are "
                         "the points: subset newdata instead")
    if newdata is None:
        frame = data.rows.drop(columns=[data.spec.outcome], errors="ignore")
    else:
        if not isinstance(newdata, pd.DataFrame) or newdata.empty:
            raise ValueError("newdata is a pandas DataFrame with at least one row")
        needed = [v for v in data.rows.columns if v != data.spec.outcome]
        missing = [v for v in needed if v not in newdata.columns]
        if missing:
            raise ValueError(f"newdata lacks the model's variable(s) {', '.join(missing)}")
        frame = newdata[needed]
        if frame.isna().any().any():
            raise ValueError("newdata has missing values in " + ", ".join(frame.columns[frame.isna().any()]))
    frame = frame.reset_index(drop=True).copy()
    for name in frame.columns:
        dtype = data.rows[name].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            frame[name] = pd.Categorical(frame[name], categories=dtype.categories, ordered=dtype.ordered)
    frame[ROW] = np.arange(len(frame))
    frame.attrs["grid"] = [] if average else [ROW]
    frame.attrs["average"] = average
    return frame


def _averaged(draws: xr.DataArray, frame: pd.DataFrame) -> xr.DataArray:
    """The draws averaged over the frame's rows where it asks for that (average=True), keeping the attrs."""
    if not frame.attrs.get("average"):
        return draws
    result = draws.mean("point")
    result.attrs = {**draws.attrs, "average": f"over {len(frame):,} rows"}
    return result


def _as_at(at) -> dict:
    """`at` / `by` as {name: values}: a name or list of names means each over its range."""
    if at is None:
        return {}
    if isinstance(at, str):
        return {at: None}
    if isinstance(at, dict):
        return dict(at)
    return {name: None for name in at}


def _kinds(kinds: Sequence[str] | str, post: PosteriorDraws) -> tuple[str, ...]:
    """The kinds asked for, checked; draws without a group sd (a model without a group intercept) have only the
    conditional kind."""
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"unknown kind(s) {unknown or kinds!r}; use {', '.join(KINDS)}")
    if post.group_sd is None:
        if "conditional" not in kinds:
            raise ValueError(f"model {post.model} has no group intercept: population-averaged predictions "
                             "equal the conditional ones; use kinds=('conditional',)")
        return ("conditional",)
    return tuple(dict.fromkeys(kinds))


def _set(frame: pd.DataFrame, name: str, value, shift: float = 0.0) -> pd.DataFrame:
    """A copy of the grid with `name` set to `value` (or, when value is None, shifted by `shift`)."""
    out = frame.copy()
    out[name] = out[name] + shift if value is None else value
    if isinstance(frame[name].dtype, pd.CategoricalDtype):
        out[name] = pd.Categorical(out[name], categories=frame[name].cat.categories, ordered=frame[name].cat.ordered)
    out.attrs = dict(frame.attrs)
    return out


def finite_difference_step(data: ModelData, name: str, step: float = STEP) -> float:
    """A finite-difference step of `step` times the variable's sample sd (or `step` where the sd is 0)."""
    if _is_categorical(data, name):
        raise ValueError(f"{name} is categorical: it has no derivative; use comparisons")
    sd = float(data.rows[name].std())
    return step * (sd if np.isfinite(sd) and sd > 0 else 1.0)


def design_derivative(data: ModelData, frame: pd.DataFrame, variable: str, part: str = "zero",
                      step: float = STEP) -> pd.DataFrame:
    """d design / d variable at the rows of `frame` (e.g. a `grid_frame`): the central difference `slopes` takes
    (step `step` x the variable's sd) of the columns of `data.new_design(frame, part)`, exactly 0 in columns that
    do not read the variable. The gradient of the linear predictor's slope, for delta-method bands."""
    h = finite_difference_step(data, variable, step)
    up, down = _set(frame, variable, None, h), _set(frame, variable, None, -h)
    return (data.new_design(up, part) - data.new_design(down, part)) / (2 * h)


def format_value(value) -> str:
    """A grid value as a label: numbers in %g form, anything else as text."""
    return f"{value:g}" if isinstance(value, (int, float, np.integer, np.floating)) else str(value)


# ------------------------------------------------------------------------------------------------ draw arrays
def _draw_array(post: PosteriorDraws, data: ModelData, frame: pd.DataFrame, kinds: tuple[str, ...],
                base: pd.DataFrame | None = None, scale: str = "response") -> xr.DataArray:
    """Per-draw quantities on `scale` at the rows of `frame`: dims (kind, quantity, sample, point), the grid
    variables of `base` (default: `frame`; a shifted grid keeps its base's coordinates) as coordinates along
    point."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; use {', '.join(SCALES)}")
    blocks = {kind: _quantities(post, data, frame, kind, scale) for kind in kinds}
    quantities = list(blocks[kinds[0]])
    values = np.stack([np.stack([blocks[k][q] for q in quantities]) for k in kinds])
    base = frame if base is None else base
    grid = base.attrs.get("grid", [])
    coords = {"kind": list(kinds), "quantity": quantities,
              **{name: ("point", np.asarray(base[name])) for name in grid}}
    return xr.DataArray(values, dims=("kind", "quantity", "sample", "point"), coords=coords,
                        attrs={"model": post.model, "grid": list(grid)})


def prediction_draws(tree: xr.DataTree | PosteriorDraws, data: ModelData,
                     at: dict | Sequence[str] | str | None = None, kinds: Sequence[str] = KINDS, every: int = 1,
                     points: int = PREDICTION_POINTS, scale: str = "response", newdata: pd.DataFrame | None = None,
                     average: bool = False) -> xr.DataArray:
    """Draws of the predicted quantities (on `scale`) on the grid of `at`, at the rows of `newdata`, or averaged over
    the rows (`average`; evaluation_frame): dims (kind, quantity, sample, point)."""
    post = PosteriorDraws.of(tree, data, every)
    frame = evaluation_frame(data, at, points, newdata, average)
    return _averaged(_draw_array(post, data, frame, _kinds(kinds, post), scale=scale), frame)


def predictions(tree: xr.DataTree | PosteriorDraws, data: ModelData, at: dict | Sequence[str] | str | None = None,
                kinds: Sequence[str] = KINDS, prob: float = PROB, every: int = 1, points: int = PREDICTION_POINTS,
                draws: bool = False, scale: str = "response", newdata: pd.DataFrame | None = None,
                average: bool = False) -> pd.DataFrame | xr.DataArray:
    """Predicted quantities at typical values with the `at` variables varied (or at the rows of `newdata`, or
    averaged over the sample's rows with `average`): one row per point, kind and quantity with the posterior mean
    and HDI (or, with `draws`, the draws as from `prediction_draws`)."""
    values = prediction_draws(tree, data, at, kinds, every, points, scale, newdata, average)
    return values if draws else summarise_draws(values, prob)


def _contrast_pairs(data: ModelData, variable: str, values) -> list[tuple]:
    """(low, high) pairs: those given (one pair or a list of pairs), else 0 -> 1 for a 0/1 variable, every other
    level against the first for a categorical one, and mean -> mean + 1 sd otherwise (`focal_levels`)."""
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
    _, mean, one_sd_up = focal_levels(data, variable).values()
    return [(float(mean), float(one_sd_up))]


def _setting(tree: xr.DataTree | PosteriorDraws, data: ModelData, variable: str, by, kinds: Sequence[str],
             every: int, points: int, newdata: pd.DataFrame | None = None, average: bool = False):
    """What a comparison or slope of `variable` across `by` works on: the kinds, the grid variables, the draws and
    the frame it is evaluated on (the grid at typical values, newdata's rows or the sample's)."""
    _check_variable(data, variable)
    by = _as_at(by)
    if variable in by:
        raise ValueError(f"{variable} cannot be both the effect's variable and in by")
    post = PosteriorDraws.of(tree, data, every)
    frame = evaluation_frame(data, by, points, newdata, average)
    return _kinds(kinds, post), list(frame.attrs["grid"]), post, frame


def _contrasts(post: PosteriorDraws, data: ModelData, frame: pd.DataFrame, variable: str, values,
               kinds: tuple[str, ...], scale: str) -> list[tuple[tuple, xr.DataArray]]:
    """Each (low, high) pair of `variable` with the draws at high minus those at low on the grid `frame`."""
    return [((low, high), _draw_array(post, data, _set(frame, variable, high), kinds, frame, scale)
             - _draw_array(post, data, _set(frame, variable, low), kinds, frame, scale))
            for low, high in _contrast_pairs(data, variable, values)]


def _along_contrast(arrays: list[xr.DataArray], labels: list[str], attrs: dict) -> xr.DataArray:
    """Arrays of one shape stacked along a leading `contrast` dim named by `labels`, with `attrs`."""
    result = xr.concat(arrays, pd.Index(labels, name="contrast"))
    result.attrs = attrs
    return result


def comparison_draws(tree: xr.DataTree | PosteriorDraws, data: ModelData, variable: str, values=None,
                     by: dict | Sequence[str] | str | None = None, kinds: Sequence[str] = KINDS, every: int = 1,
                     points: int = EFFECT_POINTS, scale: str = "response", newdata: pd.DataFrame | None = None,
                     average: bool = False) -> xr.DataArray:
    """Draws of prediction(variable = high) - prediction(variable = low) (on `scale`) on the grid of `by`, at the
    rows of `newdata` or averaged over the rows (`average`): dims (contrast, kind, quantity, sample, point), each
    contrast labelled "high - low"."""
    kinds, grid, post, frame = _setting(tree, data, variable, by, kinds, every, points, newdata, average)
    found = _contrasts(post, data, frame, variable, values, kinds, scale)
    return _averaged(_along_contrast(
        [d for _, d in found], [f"{format_value(hi)} - {format_value(lo)}" for (lo, hi), _ in found],
        {"model": post.model, "grid": grid, "variable": variable, "effect": "comparison"}), frame)


def comparisons(tree: xr.DataTree | PosteriorDraws, data: ModelData, variable: str, values=None,
                by: dict | Sequence[str] | str | None = None, kinds: Sequence[str] = KINDS, prob: float = PROB,
                every: int = 1, points: int = EFFECT_POINTS, draws: bool = False,
                scale: str = "response", newdata: pd.DataFrame | None = None,
                average: bool = False) -> pd.DataFrame | xr.DataArray:
    """Differences in predictions between two values of `variable` (default: 0 and 1 for a 0/1 variable, each
    level against the first for categories, its mean and mean + 1 sd otherwise), other variables at typical values,
    across the grid of `by` (or at the rows of `newdata`, or averaged over the sample's rows with `average`:
    marginaleffects' avg_comparisons); `values` is a pair (low, high) or a list of pairs."""
    result = comparison_draws(tree, data, variable, values, by, kinds, every, points, scale, newdata, average)
    return result if draws else summarise_draws(result, prob)


def odds_ratio_draws(tree: xr.DataTree | PosteriorDraws, data: ModelData, variable: str, values=None,
                     by: dict | Sequence[str] | str | None = None, every: int = 1,
                     points: int = EFFECT_POINTS) -> xr.DataArray:
    """Draws of the odds ratio of the logit (or hurdle zero) part between two values of `variable` (as in
    `comparisons`), other variables at typical values, across the grid of `by`: exp of the difference of the linear
    predictors, the same for a typical group and on average (group and year effects cancel). For the cumulative
    family it is the proportional odds ratio of a higher category (the same at every cut point). Dims (contrast,
    sample, point)."""
    kinds, grid, post, frame = _setting(tree, data, variable, by, ("conditional",), every, points)
    main = link_quantity(data.spec.family_info.main)
    found = _contrasts(post, data, frame, variable, values, kinds, "link")
    return _along_contrast([np.exp(d.sel(kind="conditional", quantity=main, drop=True)) for _, d in found],
                           [f"{format_value(hi)} vs {format_value(lo)}" for (lo, hi), _ in found],
                           {"model": post.model, "grid": grid, "variable": variable, "effect": "odds ratio"})


def odds_ratios(tree: xr.DataTree | PosteriorDraws, data: ModelData, variable: str, values=None,
                by: dict | Sequence[str] | str | None = None, prob: float = PROB, every: int = 1,
                points: int = EFFECT_POINTS) -> pd.DataFrame:
    """The odds ratio of `variable` (high vs low value; 1 vs 0 for a 0/1 variable) across the grid of `by`: one row
    per contrast and grid point with the posterior mean, median, HDI and Pr(odds ratio < 1)."""
    draws = odds_ratio_draws(tree, data, variable, values, by, every, points)
    lower, upper = _hdi_bounds(draws, prob)
    table = xr.Dataset({"odds_ratio": draws.mean("sample"), "median": draws.median("sample"), "lower": lower,
                        "upper": upper, "pr_below_1": (draws < 1).mean("sample")}).to_dataframe().reset_index()
    table.insert(0, "variable", variable)
    table["model"] = draws.attrs["model"]
    return table.drop(columns="point")


def slope_draws(tree: xr.DataTree | PosteriorDraws, data: ModelData, variable: str,
                by: dict | Sequence[str] | str | None = None, kinds: Sequence[str] = KINDS, every: int = 1,
                points: int = EFFECT_POINTS, step: float = STEP, cross_partial: bool = False,
                scale: str = "response", newdata: pd.DataFrame | None = None, average: bool = False
                ) -> xr.DataArray:
    """Draws of d prediction / d variable (on `scale`; central difference through the design, step `step` x sd)
    on the grid of `by`: dims (kind, quantity, sample, point). With `cross_partial`, quantities "cross-partial: <q>"
    add d^2 q / (d variable d by) in the first `by` variable (Ai & Norton 2003), by the four-point mixed
    difference. With `newdata` or `average` (evaluation_frame) at those rows, or averaged over them."""
    by = _as_at(by)
    kinds, grid, post, frame = _setting(tree, data, variable, by, kinds, every, points, newdata, average)
    h = finite_difference_step(data, variable, step)

    def at(dx: float, moderator: str | None = None, dz: float = 0.0) -> xr.DataArray:
        shifted = _set(frame, variable, None, dx)
        if moderator is not None:
            shifted = _set(shifted, moderator, None, dz)
        return _draw_array(post, data, shifted, kinds, frame, scale)

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
    result.attrs = {"model": post.model, "grid": grid, "variable": variable, "effect": "slope"}
    return _averaged(result, frame)


def slopes(tree: xr.DataTree | PosteriorDraws, data: ModelData, variable: str,
           by: dict | Sequence[str] | str | None = None, kinds: Sequence[str] = KINDS, prob: float = PROB,
           every: int = 1, points: int = EFFECT_POINTS, step: float = STEP, cross_partial: bool = False,
           draws: bool = False, scale: str = "response", newdata: pd.DataFrame | None = None,
           average: bool = False) -> pd.DataFrame | xr.DataArray:
    """The derivative of every quantity (on `scale`) in `variable` (other variables at typical values) across the
    grid of `by` (default `EFFECT_POINTS` points over each `by` variable's range), at the rows of `newdata`, or
    averaged over the sample's rows (`average`: marginaleffects' avg_slopes); `cross_partial` adds the derivative
    of the slope in the first `by` variable, on the same scale."""
    result = slope_draws(tree, data, variable, by, kinds, every, points, step, cross_partial, scale, newdata,
                         average)
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
