"""PyMC builders for every family of the model layer, with the formula's group intercept.

Two parameterisations of a logit with group intercepts b_g ~ N(0, sd^2):
- "marginal" (default where it applies, fast): b_g integrated out by quadrature inside the log-density, so NUTS
  samples only the population parameters; group effects are recovered afterwards (inference.fitting).
- "plain": the non-centred reference, b_g = sd * z_g with z_g ~ N(0, 1) sampled by NUTS (also the method of the
  cumulative family, whose data are small).
Covariates are standardised inside the model; `coef` reports intercept and slopes on the original scale. The sd is
named after the grouping (`dyad_sd`, `state_a_sd`, ...); the intercept is sampled as `intercept_centred`, the
log-odds of the probability averaged over rows and groups, on which its prior is (models.average_rate; same model,
straighter posterior). Slope priors by Gelman et al.'s rule are on rescaled inputs (models.prior_scales). Formulas
with (1 | year) add partially pooled year intercepts (non-centred). Hurdle families add a zero-truncated Poisson or
negative binomial part for the counts among positive rows, with its own terms (fixed effects only: with about 80
pacts the data cannot identify group effects there). The cumulative family is an ordinal logit whose cut points
come from a Dirichlet on the average category shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from .average_rate import intercept_for_average, row_predictors
from .design import ModelData
from .marginal_op import DyadRows, marginal_dyad_loglik
from .prior_scales import slope_map
from .priors import Prior
from .quadrature import QuadratureOptions
from .specs import METHODS, ModelSpec, SpecError


CENTRED_INTERCEPT = "intercept_centred"  # what NUTS samples where the intercept prior is on an average (_intercept)
RESCALED = "_rescaled"  # suffix of the coefficients of rescaled inputs that slope priors with a scale rule are on


@dataclass(frozen=True, eq=False)
class Standardiser:
    """Column means and sds of a design (without the intercept), to move between scales."""

    terms: tuple[str, ...]
    mean: np.ndarray
    sd: np.ndarray

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Standardiser) and self.terms == other.terms
                and np.array_equal(self.mean, other.mean) and np.array_equal(self.sd, other.sd))

    __hash__ = None  # mutable arrays inside

    @classmethod
    def from_design(cls, X: pd.DataFrame) -> "Standardiser":
        X = X.drop(columns="Intercept", errors="ignore")
        sd = X.std().to_numpy()
        return cls(tuple(X.columns), X.mean().to_numpy(), np.where(sd > 0, sd, 1.0))

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return (X[list(self.terms)].to_numpy() - self.mean) / self.sd

    def to_dict(self) -> dict:
        return {"terms": list(self.terms), "mean": self.mean.tolist(), "sd": self.sd.tolist()}


@dataclass
class BuiltModel:
    """A PyMC model with what is needed to interpret and post-process its draws."""

    model: pm.Model
    method: str
    standardiser: Standardiser
    rows: DyadRows | None  # the marginal method's row layout (rows sorted by group)
    quadrature: QuadratureOptions | None
    count_standardiser: Standardiser | None = None
    extra: dict = field(default_factory=dict)

    def drop_initial_values(self) -> None:
        """Forget the sampler's starting values (the intercept's observed log-odds, the ordinal cut points' start):
        PyMC evaluates densities, and pm.do rewrites models, only without custom initial values."""
        for rv in self.model.free_RVs:
            self.model.set_initval(rv, None)


def with_intercept(Z: np.ndarray) -> np.ndarray:
    """The standardised design with a leading column of ones (the kernel's X)."""
    return np.column_stack([np.ones(len(Z)), Z])


def _original_scale(intercept, beta, standardiser: Standardiser, name: str, dims: str, as_data=None):
    """Deterministic intercept and slopes on the covariates' original scale (`as_data` makes the standardiser's
    means and sds graph inputs: see _inputs)."""
    as_data = as_data or _inputs(None)
    mean, sd = as_data(f"{name}_mean", standardiser.mean), as_data(f"{name}_sd", standardiser.sd)
    slopes = beta / sd
    const = intercept - pt.sum(beta * mean / sd)
    return pm.Deterministic(name, pt.concatenate([const[None], slopes]), dims=dims)


def _year_effects(data: ModelData, priors: dict[str, Prior]):
    """Partially pooled year intercepts (non-centred), or None when the formula has none."""
    if data.years is None:
        return None
    year_sd = priors["year_sd"].create_scale("year_sd")
    year_z = pm.Normal("year_z", 0.0, 1.0, dims="year")
    return pm.Deterministic("year_effect", year_sd * year_z, dims="year")


def _group_sd(data: ModelData, priors: dict[str, Prior]):
    """The group intercepts' sd (named after the grouping), or None without a grouping."""
    return None if data.spec.group is None else priors["group_sd"].create_scale(data.spec.group_sd)


LKJ_ETA = 2.0  # the LKJ prior on the correlation of a grouping's intercepts and slopes (brms' default is 1)


def effect_terms(name: str) -> str:
    """The dim of a grouping's intercept and slopes (`state_a_effect_term`: Intercept, then each slope's variable)."""
    return f"{name}_effect_term"


def _lkj_cholesky(name: str, n: int, eta: float):
    """The Cholesky factor of an n x n correlation matrix with an LKJ(eta) prior, built from its canonical partial
    correlations (Lewandowski, Kurowicka & Joe 2009, as Stan does): the CPCs of column k are independent
    2 Beta(b_k, b_k) - 1 with b_k = eta + (n - 2 - k) / 2, and row i of the factor is the CPCs of that row scaled by
    what is left of the row's unit norm. (PyMC's LKJCorr cannot have its log prior evaluated on saved draws.)"""
    pairs = [(i, j) for j in range(n - 1) for i in range(j + 1, n)]
    shape = np.array([eta + (n - 2 - j) / 2 for _i, j in pairs])
    cpc = 2.0 * pm.Beta(name, alpha=shape, beta=shape, shape=len(pairs)) - 1.0
    position = {pair: k for k, pair in enumerate(pairs)}
    rows = [pt.concatenate([pt.ones(1), pt.zeros(n - 1)])]
    for i in range(1, n):
        entries, left = [], 1.0
        for j in range(i):
            value = cpc[position[(i, j)]] * pt.sqrt(left)
            entries.append(value)
            left = left - value**2
        entries.append(pt.sqrt(left))
        rows.append(pt.concatenate([pt.stack(entries), pt.zeros(n - 1 - i)]))
    return pt.stack(rows)


def information_centring(data: ModelData, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Each group's centring weight c_g = I_g / (1 + I_g), with I_g its rows' information about its intercept
    (fewer of events and non-events, the outcome's Fisher information in a logit where events are rare) and a
    group sd of 1: 0 for a group without events (non-centred), near 1 for one with many (centred). The weights of
    a partially non-centred parameterisation (Papaspiliopoulos, Roberts & Skold 2007; Gorinova, Moore & Hoffman
    2020): any weights give the same model; these mix the group sd faster where groups hold many events each (an
    option, `QuadratureOptions(sampled_centring="information")`: docs/models.md gives where it helps)."""
    y = (np.asarray(data.y, float) > 0).astype(float)
    events = np.bincount(codes, weights=y, minlength=n_groups)
    information = np.minimum(events, np.bincount(codes, minlength=n_groups) - events)
    return information / (1.0 + information)


def _sampled_intercepts(name: str, sd, centring: np.ndarray | None):
    """A grouping's intercepts b_g = sd z_g, z_g ~ N(0, 1): non-centred (`centring` None), or partially centred,
    sampled as r_g ~ N(0, sd^c_g) with b_g = sd^(1 - c_g) r_g (the same model; `{name}_z` = b_g / sd is kept)."""
    if centring is None:
        z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=name)
        return sd * z
    raw = pm.Normal(f"{name}_raw", 0.0, sd**centring, dims=name)
    pm.Deterministic(f"{name}_z", raw * sd**-centring, dims=name)
    return sd ** (1.0 - centring) * raw


def _sampled_groupings(data: ModelData, priors: dict[str, Prior], centring: str = "none"):
    """The effects of the groupings the kernel does not integrate out (e.g. sender and receiver states beside the
    dyad): intercepts sd_g z_g (non-centred, or partially centred by `centring` "information"), or, with
    group-specific slopes, each group's intercept and slopes (on the standardised variables, non-centred) with sds
    from the group sd prior and an LKJ prior on their correlation. Returns their sum on every row (or 0) and every
    sd (the spread of a row's group effects averages to the sum of their squares: the slope variables have mean 0
    and sd 1)."""
    offset, sds = 0.0, []
    for name, (codes, labels) in data.sampled.items():
        sd = priors["group_sd"].create_scale(f"{name}_sd")
        sds.append(sd)
        if name not in data.slopes:
            weights = information_centring(data, codes, len(labels)) if centring == "information" else None
            offset = offset + _sampled_intercepts(name, sd, weights)[codes]
            continue
        variables, values = data.slopes[name]
        slope_sds = [priors["group_sd"].create_scale(f"{name}_{v}_sd") for v in variables]
        sds += slope_sds
        chol = _lkj_cholesky(f"{name}_cpc", 1 + len(variables), LKJ_ETA)
        corr = pt.dot(chol, chol.T)
        pm.Deterministic(f"{name}_corr", corr[np.tril_indices(1 + len(variables), -1)],
                         dims=f"{name}_corr_pair")
        z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=(name, effect_terms(name)))
        effects = pm.Deterministic(f"{name}_effects", pt.dot(z, chol.T) * pt.stack([sd, *slope_sds]),
                                   dims=(name, effect_terms(name)))
        offset = offset + effects[codes, 0] + pt.sum(effects[codes, 1:] * values, axis=1)
    return offset, sds


def _spread_sd(sd, sampled_sds: list):
    """The sd of the sum of every grouping's intercepts (independent normals): the group spread the average row
    takes (None without any)."""
    parts = ([] if sd is None else [sd]) + list(sampled_sds)
    if len(parts) < 2:
        return parts[0] if parts else None
    return pt.sqrt(pt.maximum(sum(p**2 for p in parts), 1e-300))  # a finite gradient where every sd is 0


def _plain_offsets(data: ModelData, sd, year_effect):
    """The sampled group intercepts sd * z_g (non-centred) and year intercepts of every row, or 0."""
    offset = 0.0
    if sd is not None:
        z = pm.Normal(f"{data.spec.group}_z", 0.0, 1.0, dims=data.spec.group)
        offset = sd * z[data.groups]
    if year_effect is not None:
        offset = offset + year_effect[data.years]
    return offset


def _intercept(prior: Prior, sd, method: str, start: float, spread):
    """The intercept (log-odds of a group with effect 0 at the covariate means), sampled by NUTS as the quantity its
    prior is on (`applies_to`; `intercept_centred` where that differs from the intercept):
    - "average_row" (default): the log-odds of the probability averaged over the sample's rows and groups, the
      rows' linear predictors as sampled and the groups' normal (`spread`: the rows' linear predictors less the
      intercept, the group sd; models.average_rate). A prior on it is a prior on the sample's event rate whatever
      the slopes and sds, where one at the covariate means lets large slopes raise the implied rate (Jensen's
      inequality).
    - "average_group": intercept + sd^2 / 2, for rare events the log-odds averaged over groups at the covariate
      means (the mean of a log-normal), which the data fix whatever the sd.
    - "zero_group": the intercept itself (sampled as intercept + sd^2 / 2 in marginal fits; Jacobian 1).
    The sampler starts at `start`, the log-odds of the observed event rate, not at the prior's centre."""
    if prior.applies_to == "average_row":
        return pm.Deterministic("intercept", intercept_for_average(prior.create(CENTRED_INTERCEPT, initval=start),
                                                                   *spread))
    if sd is None:
        return prior.create("intercept", initval=start)
    shift = 0.5 * sd**2
    if prior.applies_to == "average_group":
        return pm.Deterministic("intercept", prior.create(CENTRED_INTERCEPT, initval=start) - shift)
    if method == "plain":
        return prior.create("intercept", initval=start)
    return prior.create_shifted("intercept", shift, CENTRED_INTERCEPT, initval=start)


def observed_log_odds(y: np.ndarray) -> float:
    """The log-odds of the share of positive outcomes, kept off 0 and 1 by half an event."""
    share = np.clip(np.mean(y > 0), 0.5 / len(y), 1 - 0.5 / len(y))
    return float(np.log(share / (1 - share)))


def _inputs(outcome_data: dict | None):
    """How a part of the model takes arrays that follow the outcome: as constants, or (with `outcome_data`) as
    shared variables added to it by name, so that a compiled model can take another outcome (see build_model)."""
    if outcome_data is None:
        return lambda name, value: pt.as_tensor(value)

    def shared(name: str, value):
        import pytensor

        outcome_data[name] = pytensor.shared(np.asarray(value, dtype=float), name=name)
        return outcome_data[name]

    return shared


def _slopes(prior: Prior, design, standardiser: Standardiser, name: str, dims: str, rows: np.ndarray | None = None,
            as_data=None):
    """The standardised slopes. Under a scale rule (models.prior_scales) NUTS samples the coefficients of the
    rescaled inputs, `<name>_rescaled`, with the prior, and the slopes are their fixed linear map (inputs scaled on
    `rows`, the rows the likelihood uses; `as_data` makes the map a graph input)."""
    mapping = slope_map(prior, design, standardiser.terms, standardiser.sd, rows)
    if mapping is None:
        return prior.create_for_terms(name, standardiser.terms, dims=dims)
    rescaled = prior.create_for_terms(f"{name}{RESCALED}", standardiser.terms, dims=dims)
    return pm.Deterministic(name, pt.dot((as_data or _inputs(None))(f"{name}_map", mapping), rescaled), dims=dims)


def _outcome(y: np.ndarray, outcome_data: dict | None):
    """The observed outcome: the array, or (with `outcome_data`) a data container added to it as "outcome"."""
    if outcome_data is None:
        return y
    outcome_data["outcome"] = pm.Data("outcome", y)
    return outcome_data["outcome"]


def _logit_part(data: ModelData, y: np.ndarray, priors: dict[str, Prior], method: str,
                quadrature: QuadratureOptions, standardiser: Standardiser, outcome_data: dict | None = None
                ) -> DyadRows | None:
    """The logit of a binary outcome (bernoulli, or the hurdle's 'any count' part) with its group intercepts;
    `outcome_data` collects the shared variables that hold the outcome (see build_model)."""
    Z = standardiser.transform(data.X)
    rows = None
    sd = _group_sd(data, priors)
    beta = _slopes(priors["slopes"], data.design, standardiser, "beta", "term")
    year_effect = _year_effects(data, priors)
    sampled, sampled_sds = _sampled_groupings(data, priors, quadrature.sampled_centring)
    spread = row_predictors(Z, beta, data.years, year_effect), _spread_sd(sd, sampled_sds)
    intercept = _intercept(priors["intercept"], sd, method, observed_log_odds(y), spread)
    if method == "plain":
        eta = intercept + pt.dot(pt.as_tensor(Z), beta) + _plain_offsets(data, sd, year_effect) + sampled
        pm.Bernoulli("y", logit_p=eta, observed=_outcome(y, outcome_data))
    elif data.sampled:  # the sampled groupings' (and years') intercepts reach the kernel as one offset per row
        offsets = sampled + (0.0 if year_effect is None else year_effect[data.years])
        rows = DyadRows.from_groups(data.groups, y, quadrature, level=np.arange(len(y)))
        coef = pt.concatenate([intercept[None], beta])
        loglik = marginal_dyad_loglik(coef, sd, rows.sort(with_intercept(Z)), rows, offsets, outcome_data)
        pm.Potential("marginal_loglik", loglik)
    else:
        levels = data.categorical_levels() if year_effect is None else None
        if levels is None:
            rows = DyadRows.from_groups(data.groups, y, quadrature, level=data.years)
            coef = pt.concatenate([intercept[None], beta])
            loglik = marginal_dyad_loglik(coef, sd, rows.sort(with_intercept(Z)), rows, year_effect, outcome_data)
        else:
            rows, loglik = _marginal_with_levels(data, y, Z, intercept, beta, sd, levels, quadrature, standardiser,
                                                 outcome_data)
        pm.Potential("marginal_loglik", loglik)
    _original_scale(intercept, beta, standardiser, "coef", "coef_term")
    return rows


def _marginal_with_levels(data: ModelData, y: np.ndarray, Z: np.ndarray, intercept, beta, sd, levels,
                          quadrature: QuadratureOptions, standardiser: Standardiser, outcome_data: dict | None):
    """The marginal log-likelihood with a categorical term's dummies (e.g. year fixed effects) passed to the kernel
    as level effects instead of design columns: the same model and linear predictor, beta_j (D_j - m_j) / s_j
    split into a level effect beta_j / s_j and an intercept shift, at the cost of one addition per row instead of
    a column per level. The rows' layout keeps the level codes; post-processing may use the full design."""
    positions, codes = levels
    keep = np.setdiff1d(np.arange(Z.shape[1]), positions)
    mean, scale = standardiser.mean[positions], standardiser.sd[positions]
    shifted = intercept - pt.sum(beta[positions] * mean / scale)
    coef = pt.concatenate([shifted[None], beta[keep]])
    level_effect = pt.concatenate([pt.zeros(1), beta[positions] / scale])
    rows = DyadRows.from_groups(data.groups, y, quadrature, level=codes)
    return rows, marginal_dyad_loglik(coef, sd, rows.sort(with_intercept(Z[:, keep])), rows, level_effect,
                                      outcome_data)


def _count_part(data: ModelData, y: np.ndarray, priors: dict[str, Prior], standardiser: Standardiser,
                outcome_data: dict | None = None) -> int:
    """Zero-truncated Poisson or negative binomial for the counts among positive rows (fixed effects only). Its
    standardiser (`count_standardiser`) and the scale rule's inputs are those of the positive rows, the only rows
    its likelihood uses; its intercept (`count_intercept`, the log expected count at their means) is sampled as the
    log of their average expected count (`count_intercept_centred`, where the prior applies_to "average_row").
    With `outcome_data`, everything that follows the positive rows is a shared variable (see build_model)."""
    as_data = _inputs(outcome_data)
    positive = y > 0
    Z = as_data("count_design", standardiser.transform(data.count_X)[positive])
    cb = _slopes(priors["count_slopes"], data.count_design, standardiser, "count_beta", "count_term", positive,
                 as_data)
    spread = pt.dot(Z, cb)
    prior = priors["count_intercept"]
    start = float(np.log(np.mean(y[positive]))) if positive.any() else 0.0
    if prior.applies_to == "average_row":  # log of the rows' average expected count, exactly (a few hundred rows)
        average = prior.create(f"count_{CENTRED_INTERCEPT}", initval=start)
        log_rows = pt.log(pt.maximum(Z.shape[0], 1))
        c0 = pm.Deterministic("count_intercept", average - (pt.logsumexp(spread) - log_rows))
    else:
        c0 = prior.create("count_intercept")
    log_mu = c0 + spread
    observed = y[positive] if outcome_data is None else pm.Data("count_outcome", y[positive])
    if outcome_data is not None:
        outcome_data["count_outcome"] = observed
    if data.spec.family_info.count == "negbin":
        alpha = priors["count_alpha"].create("count_alpha")
        pm.CustomDist("count", log_mu, alpha, dist=_truncated_negbin, logp=zero_truncated_negbin_logp,
                      observed=observed)
    else:
        pm.CustomDist("count", log_mu, dist=_truncated_poisson, logp=zero_truncated_poisson_logp, observed=observed)
    _original_scale(c0, cb, standardiser, "count_coef", "count_coef_term", as_data)
    return int(positive.sum())


def zero_truncated_poisson_logp(value, log_mu):
    """log Pr(y | y >= 1) of a Poisson with log mean `log_mu`, written out: PyMC's Truncated takes log(gammaincc),
    whose gradient is 0/0 (NaN) once exp(-mu) underflows (mu above about 745), which stalled every transition of
    fits with counts in the hundreds. Pr(y = 0) = exp(-mu), so the truncation term is log1mexp(-mu)."""
    mu = pt.exp(log_mu)
    return value * log_mu - mu - pt.gammaln(value + 1.0) - pt.log1mexp(-mu)


def zero_truncated_negbin_logp(value, log_mu, alpha):
    """log Pr(y | y >= 1) of PyMC's negative binomial (mean exp(log_mu), dispersion alpha), written out as the
    Poisson's: log Pr(y = 0) = -alpha log1p(mu / alpha)."""
    mu = pt.exp(log_mu)
    log_p0 = -alpha * pt.log1p(mu / alpha)
    return pm.logp(pm.NegativeBinomial.dist(mu=mu, alpha=alpha), value) - pt.log1mexp(log_p0)


def _truncated_poisson(log_mu, size):
    """The same distribution for drawing (PyMC's Truncated; its logp is replaced by the one above)."""
    return pm.Truncated.dist(pm.Poisson.dist(mu=pt.exp(log_mu)), lower=1, size=size)


def _truncated_negbin(log_mu, alpha, size):
    return pm.Truncated.dist(pm.NegativeBinomial.dist(mu=pt.exp(log_mu), alpha=alpha), lower=1, size=size)


def _ordinal_part(data: ModelData, y: np.ndarray, priors: dict[str, Prior], standardiser: Standardiser,
                  outcome_data: dict | None = None) -> None:
    """Ordinal logit: Pr(y <= k) = logit^-1(c_k - eta), ordered cut points; `cutpoints` and `coef` on the original
    scale."""
    Z = standardiser.transform(data.X)
    beta = _slopes(priors["slopes"], data.design, standardiser, "beta", "term")
    sd, year_effect = _group_sd(data, priors), _year_effects(data, priors)
    sampled, sampled_sds = _sampled_groupings(data, priors)
    eta = pt.dot(pt.as_tensor(Z), beta) + _plain_offsets(data, sd, year_effect) + sampled
    cut = _cutpoints(priors["cutpoints"], len(data.categories), row_predictors(Z, beta, data.years, year_effect),
                     _spread_sd(sd, sampled_sds))
    pm.OrderedLogistic("y", eta=eta, cutpoints=cut, observed=_outcome(y.astype(np.int64), outcome_data))
    shift = pt.sum(beta * standardiser.mean / standardiser.sd)
    pm.Deterministic("cutpoints", cut + shift, dims="cut")
    pm.Deterministic("coef", beta / standardiser.sd, dims="coef_term")


def _cutpoints(prior: Prior, categories: int, eta, sd):
    """The cut points on the latent scale at the covariate means (`cutpoints_std`). A Dirichlet prior is on the
    category probabilities averaged over the sample's rows and groups (`eta`: the rows' linear predictors, `sd` the
    group sd; models.average_rate; rstanarm's stan_polr puts it at the means): a prior on the outcome's shares
    whatever the number of categories or the slopes' spread. Otherwise ordered cut points, each with the prior."""
    if prior.dist == "Dirichlet":
        probs = pm.Dirichlet("category_probs", a=np.full(categories, prior.kwargs["alpha"]))
        below = pt.clip(pt.cumsum(probs)[:-1], 1e-12, 1.0 - 1e-12)
        target = pt.log(below) - pt.log1p(-below)  # log-odds of Pr(y <= k) averaged over rows
        return pm.Deterministic("cutpoints_std", intercept_for_average(target, -eta, sd), dims="cut")
    k = categories - 1
    return prior.create("cutpoints_std", dims="cut", transform=pm.distributions.transforms.ordered,
                        initval=np.linspace(-1.0, 1.0, k) if k > 1 else np.zeros(1))


def check_method(spec: ModelSpec, method: str) -> None:
    """Refuse a method the model cannot use, naming the model."""
    if method not in METHODS:
        raise SpecError(f"model {spec.name}: unknown method {method!r}; use {', '.join(METHODS)}")
    if method == "marginal" and (spec.group is None or not spec.family_info.marginal):
        raise SpecError(f"model {spec.name}: method marginal needs a group intercept (1 | group) and a logit "
                        "likelihood (bernoulli or hurdle); use method plain")


def build_model(data: ModelData, priors: dict[str, Prior], method: str | None = None,
                quadrature: QuadratureOptions = QuadratureOptions(), outcome_data: bool = False) -> BuiltModel:
    """The PyMC model of `data.spec`: bernoulli (logit), hurdle (logit for any count and truncated counts) or
    cumulative (ordinal logit), with the formula's group and year intercepts. `method` defaults to the spec's.
    With `outcome_data`, the outcome (and what follows from it) sits in shared variables, listed by name in
    `extra["outcome_data"]`, so that a model compiled once can be given another outcome of the same design
    (simulation-based calibration); a hurdle's count part then takes its rows, their standardiser and its scale
    rule's map as shared variables too."""
    spec = data.spec
    family = spec.family_info
    method = spec.fit_method if method is None else method
    check_method(spec, method)
    standardiser = Standardiser.from_design(data.X)
    intercept = ["Intercept"] if family.intercept else []
    coords = {"term": list(standardiser.terms), "coef_term": [*intercept, *standardiser.terms]}
    if spec.group is not None:
        coords[spec.group] = np.arange(data.n_groups)
    for name, (_codes, labels) in data.sampled.items():
        coords[name] = np.arange(len(labels))
        if name in data.slopes:
            terms = ["Intercept", *data.slopes[name][0]]
            coords[effect_terms(name)] = terms
            coords[f"{name}_corr_pair"] = [f"{terms[i]}, {terms[j]}" for i, j in
                                           zip(*np.tril_indices(len(terms), -1))]
    if data.year_labels is not None:
        coords["year"] = data.year_labels
    count_standardiser = None
    if data.count_X is not None:
        count_standardiser = Standardiser.from_design(data.count_X[data.positive])
        coords["count_term"] = list(count_standardiser.terms)
        coords["count_coef_term"] = ["Intercept", *count_standardiser.terms]
    if family.is_ordinal:
        coords["cut"] = [f"{a}|{b}" for a, b in zip(data.categories[:-1], data.categories[1:])]
    y = data.y.to_numpy()
    extra, rows = {}, None
    shared = {} if outcome_data else None
    with pm.Model(coords=coords) as model:
        if family.is_ordinal:
            _ordinal_part(data, y, priors, standardiser, shared)
        elif not family.is_hurdle:
            rows = _logit_part(data, y, priors, method, quadrature, standardiser, shared)
        else:
            rows = _logit_part(data, (y > 0).astype(float), priors, method, quadrature, standardiser, shared)
            extra["n_positive"] = _count_part(data, y, priors, count_standardiser, shared)
    if shared:
        extra["outcome_data"] = shared
    return BuiltModel(model, method, standardiser, rows, quadrature if method == "marginal" else None,
                      count_standardiser, extra)
