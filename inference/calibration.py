"""Simulation-based calibration (Talts et al. 2018; Modrak et al. 2023) of every model family, and parameter
recovery at fixed values.

A case (models/calibration.toml) is a family on a real design: a spec's covariates as observed, on a subsample of
its groups (all their rows), with the outcome simulated. For each simulation the population parameters are drawn
from the prior (or fixed, for recovery), group and year intercepts and the outcome are simulated by the
non-centred model (method plain: PyMC's prior predictive of the same priors), and the case's model is fitted to the
simulated outcome with its own method (the marginal likelihood for most families). If simulator, likelihood and
sampler agree, the rank of each true value among the (thinned) posterior draws is uniform over the simulations.
Checked quantities: every population parameter, the group and year sds, the quantities the intercept priors are on
(the centred intercepts), the log-likelihood of the simulated data, and the focal interaction's average
cross-partial on the probability scale (Ai & Norton 2003, group effects 0).

Each simulation is one Dask task that fits and returns a small record (ranks, posterior summaries, sampler
diagnostics), cached as JSON under a key of everything that determines it, so a rerun fits only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import expit

from data_prep.io import atomic_write_text, check_safe_name, read_toml
from models.builders import CENTRED_INTERCEPT, RESCALED, build_model
from models.design import ModelData, model_data
from models.families import FAMILIES, get_family
from models.priors import LOCATIONS, Prior, PriorError, parse_priors, priors_config
from models.specs import METHODS, ModelSpec, SpecError, load_specs

from .effects import STEP, finite_difference_step
from .fitting import fit, group_quantities, log_likelihood_totals, population_names
from .record import fit_record
from .refits import fan_out
from .settings import SamplerSettings
from .simulation import simulate, with_outcome

DEFAULT_CASES = Path(__file__).resolve().parents[1] / "models" / "calibration.toml"
OUTCOME = "simulated_outcome"  # the outcome column the cases' formulas are given (values simulated)
DESIGNS = ("dyad", "country_year")  # which panel a case's covariates come from
TRUTHS = ("prior", "posterior_mean")  # where the true parameters come from: SBC, or recovery at a fit's mean
LOGLIK = "log_likelihood"
INTERACTION = "interaction_effect"
MAX_EFFECT_ROWS = 5000  # rows the interaction's average cross-partial is computed on (a fixed random subset)
CACHE_VERSION = 7  # 2: outcomes drawn from the parameters in NumPy (inference.simulation); 3: with every grouping;
# 4: one compiled model per case and process; 5: the centred intercepts; 6: each fit starting from its own outcome's
# log-odds and mean count again; 7: the zero-truncated counts' log-density written out (finite gradient for large counts)
# Known errors a case can inject to measure its test's power: fits that depart from the simulator by `value`, made
# from the case's own fit by importance weights (no refit; see injected_fit). The truths are the simulator's.
INJECTIONS = {
    "group_sd_scale": "the fit spreads the group intercepts {value:g} times its group sd",
    "intercept_shift": "the fit's intercept prior is shifted by {value:g} prior sd",
    "interaction_shift": "the fit's prior on the key interaction's slope is shifted by {value:g} prior sd",
}
FAILED_ESS = 10  # a fit whose smallest bulk ESS is below this did not sample (e.g. stuck, every draw divergent)
POWER_RESAMPLES = 1000  # random subsets of a case's simulations behind each power estimate
POWER_SHARE = 0.5  # power is estimated at this share of a case's simulations (random subsets; see flag_rate)


class CalibrationError(ValueError):
    """A calibration config or case that cannot be used."""


@dataclass(frozen=True)
class RunSettings:
    """What every case shares unless it says otherwise: simulations, sampler settings, thinned draws kept for the
    ranks, the seed, and the familywise error rate of the uniformity tests."""

    simulations: int = 100
    draws: int = 300
    tune: int = 300
    chains: int = 2
    sampler: str = "nutpie"
    target_accept: float = 0.9
    keep: int = 100
    seed: int = 20261203
    alpha: float = 0.05

    def sampler_settings(self) -> SamplerSettings:
        return SamplerSettings(sampler=self.sampler, draws=self.draws, tune=self.tune, chains=self.chains,
                               seed=self.seed, target_accept=self.target_accept, ess_min=1)


@dataclass(frozen=True)
class Case:
    """One family on one design. `formula` is the right-hand side, where `{m4}` stands for spec m4's terms
    (without its group and year intercepts); `groups` subsamples that many groups (0: all); `events` centres the
    intercept's prior on that many expected events in the sample, with sd `intercept_sigma` on the log-odds (the
    default's applies_to)."""

    name: str
    label: str
    formula: str
    family: str = "bernoulli"
    method: str = ""
    design: str = "dyad"
    specs: str = ""
    groups: int = 100
    events: float = 100.0
    intercept_sigma: float = 2.0
    categories: int = 3
    truth: str = "prior"
    truth_fit: str = ""
    priors: dict = field(default_factory=dict)
    inject: dict = field(default_factory=dict)  # known errors to measure the test's power against (INJECTIONS)
    run: RunSettings = RunSettings()

    def key(self, design_checksum: str, priors: dict[str, Prior]) -> str:
        """Cache key of the case's simulations: everything that determines them but their number (simulation i is
        the same whatever the total, so a longer run reuses the records of a shorter one), with the priors in force
        (the defaults change what a case without overrides simulates)."""
        case = asdict(self)
        del case["run"]["simulations"]
        record = {"case": case, "design": design_checksum, "priors": priors_config(priors), "version": CACHE_VERSION}
        if get_family(self.family).is_hurdle:  # since version 5: count parts drawn given the simulated positives
            record["count_part"] = "given the simulated positive rows"
        return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:16]


CASE_KEYS = {f for f in Case.__dataclass_fields__} - {"name", "run"}


def _settings(entry: dict, where: str, base: RunSettings = RunSettings()) -> RunSettings:
    unknown = set(entry) - set(RunSettings.__dataclass_fields__)
    if unknown:
        raise CalibrationError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}; use "
                               f"{', '.join(RunSettings.__dataclass_fields__)}")
    try:
        run = replace(base, **entry)
        run.sampler_settings()
    except (TypeError, ValueError) as exc:
        raise CalibrationError(f"{where}: {exc}") from None
    if not (isinstance(run.keep, int) and 10 <= run.keep <= run.draws * run.chains):
        raise CalibrationError(f"{where}: keep must be a whole number from 10 to draws x chains, got {run.keep!r}")
    if not (isinstance(run.simulations, int) and run.simulations >= 1):
        raise CalibrationError(f"{where}: simulations must be a whole number >= 1, got {run.simulations!r}")
    return run


def load_cases(path: str | Path | None = None) -> dict[str, Case]:
    """Every case of a calibration file (default: the packaged one), checked (names, families, methods, designs,
    settings, priors) before anything is simulated; errors name the file and the case."""
    path = DEFAULT_CASES if path is None else Path(path)
    config = read_toml(path, "calibration file", CalibrationError)
    base = _settings(config.get("settings", {}), f"{path} [settings]")
    cases = {}
    for name, entry in config.get("cases", {}).items():
        where = f"{path} [cases.{name}]"
        check_safe_name(name, f"{where}: case name", CalibrationError)
        if not isinstance(entry, dict):
            raise CalibrationError(f"{where} must be a table")
        entry = dict(entry)
        run = _settings(entry.pop("settings", {}), where, base)
        unknown = set(entry) - CASE_KEYS
        if unknown:
            raise CalibrationError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; use "
                                   f"{', '.join(sorted(CASE_KEYS))}")
        if "formula" not in entry:
            raise CalibrationError(f"{where}: needs a formula (right-hand side, e.g. \"{{m4}} + (1 | dyad)\")")
        try:
            case = Case(name=name, run=run, label=entry.pop("label", name), **entry)
        except TypeError as exc:
            raise CalibrationError(f"{where}: {exc}") from None
        for key, allowed in (("family", FAMILIES), ("method", ("", *METHODS)), ("design", DESIGNS),
                             ("truth", TRUTHS)):
            if getattr(case, key) not in allowed:
                raise CalibrationError(f"{where}: {key} must be one of {', '.join(a for a in allowed if a)}, "
                                       f"got {getattr(case, key)!r}")
        if case.truth == "posterior_mean" and not case.truth_fit:
            raise CalibrationError(f"{where}: truth = \"posterior_mean\" needs truth_fit, the model whose saved "
                                   "fit gives the values")
        try:
            parse_priors(case.priors, where)
        except PriorError as exc:
            raise CalibrationError(str(exc)) from None
        for error, value in case.inject.items():
            if error not in INJECTIONS:
                raise CalibrationError(f"{where}: inject: unknown error {error!r}; use {', '.join(INJECTIONS)}")
            values = value if isinstance(value, list) and value else [value]
            if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < abs(v) < 100 for v in values):
                raise CalibrationError(f"{where}: inject: {error} must be a number or a list of numbers, got "
                                       f"{value!r}")
        if case.inject and case.truth != "prior":
            raise CalibrationError(f"{where}: inject is for cases whose truths come from the prior")
        cases[name] = case
    if not cases:
        raise CalibrationError(f"{path}: no [cases.<name>] tables")
    return cases


# --- the simulated data -----------------------------------------------------------------------------------------

TERMS = re.compile(r"\{([A-Za-z0-9_.+-]+)\}")
RANDOM = re.compile(r"\+\s*\(\s*1\s*\|\s*\w+\s*\)")


def spec_terms(spec: ModelSpec) -> str:
    """The right-hand side of a spec's formula without its group and year intercepts."""
    rhs = " ".join(spec.formula.split("~", 1)[1].split())
    return RANDOM.sub("", rhs).strip()


def case_spec(case: Case, specs: dict[str, ModelSpec]) -> tuple[ModelSpec, ModelSpec]:
    """The case's model spec (outcome `simulated_outcome`) and the spec whose terms and sample it borrows."""
    names = TERMS.findall(case.formula)
    if len(names) != 1 or names[0] not in specs:
        raise CalibrationError(f"case {case.name}: the formula must name one model's terms as {{name}}, one of "
                               f"{', '.join(specs)}; got {case.formula!r}")
    base = specs[names[0]]
    rhs = TERMS.sub(spec_terms(base), case.formula)
    try:
        spec = ModelSpec(case.name, f"{OUTCOME} ~ {rhs}", family=case.family, sample=base.sample,
                         method=case.method, label=case.label)
    except SpecError as exc:
        raise CalibrationError(f"case {case.name}: {exc}") from None
    return spec, base


def _template_outcome(case: Case, n: int) -> np.ndarray:
    """Placeholder outcome values of the right kind (replaced by the simulations)."""
    if get_family(case.family).is_ordinal:
        return np.arange(n) % case.categories
    return (np.arange(n) % 2).astype(float)


def case_data(case: Case, frame: pd.DataFrame, spec: ModelSpec) -> ModelData:
    """The case's estimation data: the spec's sample, `groups` of its groups drawn at random (with all their rows)."""
    full = model_data(frame.assign(**{OUTCOME: _template_outcome(case, len(frame))}), spec)
    rows = frame.loc[full.y.index]
    if case.groups and spec.group and case.groups < full.n_groups:
        rng = np.random.default_rng(case.run.seed)
        chosen = rng.choice(full.n_groups, case.groups, replace=False)
        rows = rows[np.isin(full.groups, chosen)]
    return model_data(rows.assign(**{OUTCOME: _template_outcome(case, len(rows))}), spec)


def case_priors(case: Case, data: ModelData) -> dict[str, Prior]:
    """The default priors with the case's overrides; the intercept's base rate is `events` over the sample's rows
    and its sd `intercept_sigma` (simulations centred on the case's event count, not spread over the design-neutral
    default's range)."""
    entry = dict(case.priors)
    defaults = parse_priors({}, "default priors")
    if "intercept" not in entry and get_family(case.family).intercept:
        intercept = defaults["intercept"]
        rate = min(case.events / len(data.y), 0.5)
        entry["intercept"] = {"dist": "Normal", "base_rate": rate, "sigma": case.intercept_sigma,
                              "applies_to": intercept.applies_to}
    return parse_priors(entry, f"case {case.name}")


# --- one simulation ---------------------------------------------------------------------------------------------

def _flat(ds: xr.Dataset, names: list[str]) -> dict[str, np.ndarray]:
    """Each parameter's scalars as `name[label]` -> values over the last (draw) axis."""
    out = {}
    for name in names:
        da = ds[name]
        extra = [d for d in da.dims if d not in ("chain", "draw", "simulation")]
        if not extra:
            out[name] = np.asarray(da).reshape(-1)
            continue
        stacked = da.stack(__flat__=extra)
        correlation, width = name.endswith("_corr") and len(extra) == 2, da.sizes[extra[-1]]
        for i, label in enumerate(stacked["__flat__"].to_index()):
            row, column = divmod(i, width)
            if correlation and row >= column:
                continue  # a correlation matrix: its diagonal is 1 and its lower triangle repeats the upper
            text = label if not isinstance(label, tuple) else ",".join(map(str, label))
            out[f"{name}[{text}]"] = np.asarray(stacked.isel(__flat__=i)).reshape(-1)
    return out


def interaction_effect(coef: np.ndarray, data: ModelData, rows: np.ndarray) -> np.ndarray | None:
    """The focal interaction's cross-partial derivative of Pr(y = 1) (group and year intercepts at 0), averaged over
    `rows` (Ai & Norton 2003), for each row of `coef` (original-scale coefficients); None without an interaction
    or for ordinal models. Central finite differences of the predicted probabilities."""
    spec = data.spec
    if spec.interaction is None or spec.family_info.is_ordinal:
        return None
    x, m = spec.interaction
    frame = data.rows.iloc[rows]
    hx, hm = finite_difference_step(data, x, STEP), finite_difference_step(data, m, STEP)
    total = 0.0
    for sx, sm, sign in ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)):
        shifted = frame.assign(**{x: frame[x] + sx * hx, m: frame[m] + sm * hm})
        X = data.new_design(shifted)[list(data.X.columns)].to_numpy()
        total = total + sign * expit(X @ np.atleast_2d(coef).T).mean(axis=0)
    return total / (4 * hx * hm)


def effect_rows(data: ModelData, seed: int) -> np.ndarray:
    """The fixed subset of rows the interaction effect is averaged over."""
    n = len(data.y)
    if n <= MAX_EFFECT_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, MAX_EFFECT_ROWS, replace=False))


def _loglik_total(totals: xr.Dataset) -> np.ndarray:
    """Each draw's log-likelihood, its parts (groups, observed outcomes) added."""
    return sum(np.asarray(totals[v]).reshape(-1) for v in totals.data_vars)


def truth_loglik(data: ModelData, priors: dict[str, Prior], method: str, truth: xr.Dataset) -> float:
    """The log-likelihood of the simulated data at the true parameters (the fitted model's: marginal over the
    group intercepts for the marginal method, given them for the plain one)."""
    one = xr.DataTree.from_dict({"posterior": truth.expand_dims(chain=[0], draw=[0])})
    built = build_model(data, priors, method)
    totals = group_quantities(built, data, one)[2] if built.method == "marginal" else None
    return float(_loglik_total(log_likelihood_totals(built, one, totals))[0])


def weighted_pit(values: np.ndarray, truth: float, log_weights: np.ndarray | None, u: float) -> float:
    """Where the truth falls among weighted draws, randomised like an SBC rank: (W + u / n) / (1 + 1 / n), W the
    weight of the draws below the truth (weights summing to 1). Equal weights give (rank + u) / (n + 1)."""
    n = values.size
    w = np.full(n, 1.0 / n) if log_weights is None else np.exp(log_weights - log_weights.max())
    w = w / w.sum()
    return float((w[values < truth].sum() + u / n) / (1 + 1 / n))


def injections(case: Case) -> list[tuple[str, str, float]]:
    """The case's injected errors as (key, error, size), one per size where `inject` gives a list; the key
    (`error=size`) names the error's PIT values in each simulation's record."""
    out = []
    for error, value in case.inject.items():
        for v in value if isinstance(value, list) else [value]:
            out.append((f"{error}={v:g}", error, float(v)))
    return out


def scaled_sd_log_weights(prior: Prior, sd: np.ndarray, scale: float) -> np.ndarray:
    """Log importance weights that take draws of a group sd under `prior` to draws of tau = scale x sd_f with sd_f
    under `prior`: log p(sd / scale) - log scale - log p(sd) (the density of tau over that of sd)."""
    return prior.logpdf(sd / scale) - np.log(scale) - prior.logpdf(sd)


def injected_fit(error: str, value: float, draws: dict[str, np.ndarray], truths: dict[str, float], post: xr.Dataset,
                 data: ModelData, priors: dict[str, Prior], method: str, truth: xr.Dataset
                 ) -> tuple[dict[str, np.ndarray], dict[str, float], np.ndarray]:
    """The draws, truths and log importance weights of a fit that departs from the simulator by a known error
    (INJECTIONS), from the case's own fit, whose posterior p(theta | y) is the right one:
    - group_sd_scale c: the fit's likelihood spreads the group intercepts c sd_f. With tau = c sd_f, its posterior
      is the right one with the prior of tau, p(tau / c) / c, in place of p(tau): the draws tau_i = sd_i weighted by
      p(sd_i / c) / (c p(sd_i)), and sd_f = sd_i / c. Its log-likelihood at the truth is the right one's at sd c.
    - intercept_shift k: the fit's intercept prior moved by k prior sds: the draws weighted by the ratio of the
      shifted prior to the prior, at the quantity the prior is on (`intercept_centred` where it is sampled).
    - interaction_shift k: the same for the prior of the key interaction's slope, at its sampled coefficient (of
      the rescaled inputs under a scale rule, where the slope priors are).
    Weights are Pareto-smoothed (PSIS) by the caller."""
    draws, truths = dict(draws), dict(truths)
    need = injection_requirement(error, data.spec)
    if need:
        raise CalibrationError(f"inject {error} needs {need}")
    if error == "group_sd_scale":
        sd = data.spec.group_sd
        log_weights = scaled_sd_log_weights(priors["group_sd"], draws[sd], value)
        draws[sd] = draws[sd] / value
        scaled = truth.copy()
        for name in (sd, f"{sd}_signed"):
            if name in scaled:
                scaled[name] = scaled[name] * value
        truths[LOGLIK] = truth_loglik(data, priors, method, scaled)
        return draws, truths, log_weights
    if error == "interaction_shift":
        name = f"beta{RESCALED}" if f"beta{RESCALED}" in post else "beta"
        x, m = data.spec.interaction
        term = next(t for t in (f"{x}:{m}", f"{m}:{x}") if t in post[name].coords["term"].values)
        slopes = priors["slopes"]
        prior = replace(slopes, kwargs={**slopes.kwargs, **slopes.terms.get(term, {})}, terms={})
        at = np.asarray(post[name].sel(term=term)).reshape(-1)
        return draws, truths, shifted_prior_log_weights(prior, at, value, error)
    on = CENTRED_INTERCEPT if CENTRED_INTERCEPT in post else "intercept"
    at = np.asarray(post[on]).reshape(-1)
    return draws, truths, shifted_prior_log_weights(priors["intercept"], at, value, error)


def injection_requirement(error: str, spec: ModelSpec) -> str | None:
    """What an injected error needs of the model that `spec` lacks (None where it has it): one rule for the check
    before any simulation (prepare_case) and the one at the fit."""
    if error == "group_sd_scale" and spec.group is None:
        return "a group intercept"
    if error == "interaction_shift" and spec.interaction is None:
        return "a two-way interaction"
    return None


def shifted_prior_log_weights(prior: Prior, at: np.ndarray, value: float, error: str) -> np.ndarray:
    """Log importance weights from `prior` to the same prior moved by `value` of its sds, at the draws `at` of the
    quantity it is on."""
    centre = LOCATIONS.get(prior.dist)
    if centre is None or "sigma" not in prior.kwargs:
        raise CalibrationError(f"inject {error} needs a location-scale prior, not {prior.dist}")
    shifted = replace(prior, kwargs={**prior.kwargs, centre: prior.kwargs.get(centre, 0.0)
                                     + value * prior.kwargs["sigma"]})
    return shifted.logpdf(at) - prior.logpdf(at)


def simulation_record(data: ModelData, case: Case, priors: dict[str, Prior], index: int, truth: xr.Dataset,
                      y: np.ndarray, reuse: str | None = None) -> dict:
    """Fit the case's model to one simulated outcome and rank each true quantity among the thinned draws. The
    record holds the randomised PIT (rank + U(0, 1)) / (keep + 1), the rank, the posterior mean and sd, the truth,
    the sampler's diagnostics and the time. `reuse` (the case's key) compiles its model once per process."""
    began = time.perf_counter()
    sim = with_outcome(data, y)
    settings = replace(case.run.sampler_settings(), seed=case.run.seed + index)
    tree, diagnostics = fit(sim, priors, settings, None, group_outputs=False, reuse=reuse)
    spec = data.spec
    post = tree["posterior"].to_dataset()
    # with the quantities the intercept priors are on (the log-odds of the average row's probability, the log of
    # the average positive row's expected count), where they are sampled: what an error in those priors moves
    checked = [*population_names(spec), CENTRED_INTERCEPT, f"count_{CENTRED_INTERCEPT}"]
    built_names = [v for v in checked if v in post and v in truth]
    draws = _flat(post, built_names)
    truths = {k: float(v[0]) for k, v in _flat(truth.expand_dims(draw=[0]), built_names).items()}
    draws[LOGLIK] = _loglik_total(tree["log_likelihood_total"].to_dataset())
    truths[LOGLIK] = truth_loglik(sim, priors, fit_record(tree).method, truth)
    rows = effect_rows(data, case.run.seed)
    coef_draws = np.asarray(post["coef"]).reshape(-1, post["coef"].shape[-1])
    effect = interaction_effect(coef_draws, sim, rows)
    if effect is not None:
        draws[INTERACTION] = effect
        truths[INTERACTION] = float(interaction_effect(np.asarray(truth["coef"])[None], sim, rows)[0])
    rng = np.random.default_rng([case.run.seed, index])
    n = next(iter(draws.values())).size
    thin = np.linspace(0, n - 1, case.run.keep).round().astype(int)
    record = {"simulation": index, "pit": {}, "rank": {}, "mean": {}, "sd": {}, "truth": {}}
    for name, values in draws.items():
        kept = values[thin]
        rank = int((kept < truths[name]).sum())
        record["rank"][name] = rank
        record["pit"][name] = (rank + rng.uniform()) / (case.run.keep + 1)
        record["mean"][name] = float(values.mean())
        record["sd"][name] = float(values.std())
        record["truth"][name] = truths[name]
    method = fit_record(tree).method
    from arviz_stats.base import array_stats

    for key, error, value in injections(case):  # the same simulation under each injected error (no refit)
        moved, moved_truths, log_weights = injected_fit(error, value, draws, truths, post, sim, priors, method, truth)
        smoothed, khat = array_stats.psislw(log_weights - log_weights.max())
        u = rng.uniform(size=len(moved))
        record.setdefault("injected", {})[key] = {
            "pit": {name: weighted_pit(v, moved_truths[name], smoothed, ui)
                    for (name, v), ui in zip(moved.items(), u)},
            "khat": float(khat)}
    table = diagnostics.table  # the fit's own, of the same population parameters
    record.update({"events": int((sim.y > 0).sum()), "rows": len(sim.y), "divergences": diagnostics.divergences,
                   "max_rhat": float(table["r_hat"].max()), "min_ess_bulk": float(table["ess_bulk"].min()),
                   "seconds": round(time.perf_counter() - began, 2)})
    return record


# --- running a case ---------------------------------------------------------------------------------------------

@dataclass
class CaseData:
    """Everything a case's simulations need: its data, priors, simulated parameters and outcomes."""

    case: Case
    data: ModelData
    priors: dict[str, Prior]
    truth: xr.Dataset
    outcomes: np.ndarray
    design_checksum: str

    @property
    def key(self) -> str:
        return self.case.key(self.design_checksum, self.priors)


def posterior_means(tree: xr.DataTree, names: list[str]) -> dict[str, np.ndarray]:
    """A saved fit's posterior means of the sampled parameters `names` (signed scales as their absolute value)."""
    post = tree["posterior"]
    out = {}
    for name in names:
        source = name.removesuffix("_signed")
        value = np.asarray(post[source if source in post else name].mean(("chain", "draw")))
        out[name] = value
    return out


def design_fingerprint(data: ModelData, fixed: dict | None = None) -> str:
    """A checksum of what a case's simulations are drawn on: its design matrices, template outcome, group, year,
    sampled-grouping and slope codes, and a recovery case's fixed truth. Not the whole panel's checksum: a panel
    rebuilt with other columns (say, another concession measure) leaves the cached simulations of an unchanged
    design valid."""
    digest = hashlib.sha256()
    parts = [data.X, data.y, data.count_X, data.groups, data.years, data.categories,
             *(codes for codes, _labels in data.sampled.values()),
             *(values for _variables, values in data.slopes.values()),
             *([] if fixed is None else [fixed[k] for k in sorted(fixed)])]
    for part in parts:
        if part is None:
            digest.update(b"-")
            continue
        if isinstance(part, pd.DataFrame):
            digest.update(",".join(map(str, part.columns)).encode())
        digest.update(np.ascontiguousarray(np.asarray(part, dtype=float)).tobytes())
    return digest.hexdigest()[:16]


def prepare_case(case: Case, frame: pd.DataFrame, truth_tree: xr.DataTree | None = None,
                 specs: dict[str, ModelSpec] | None = None) -> CaseData:
    """The case's data, priors (the truth fit's, for recovery) and simulations."""
    if specs is None:
        specs = load_specs(case.specs or None)
    spec, _base = case_spec(case, specs)
    for error in case.inject:  # refused before any simulation, not in a fit
        need = injection_requirement(error, spec)
        if need:
            raise CalibrationError(f"case {case.name}: inject {error} needs {need}, which {case.formula!r} does not "
                                   "have")
    data = case_data(case, frame, spec)
    fixed = None
    if case.truth == "posterior_mean":
        if truth_tree is None:
            raise CalibrationError(f"case {case.name}: recovery needs the saved fit of {case.truth_fit}")
        priors = fit_record(truth_tree).priors
        sampled = [v.name for v in build_model(data, priors).model.free_RVs]
        fixed = posterior_means(truth_tree, sampled)
    else:
        priors = case_priors(case, data)
    truth, outcomes = simulate(data, priors, case.run.simulations, case.run.seed, fixed)
    if spec.family_info.is_hurdle:
        truth, outcomes = with_a_count(data, priors, case.run.seed, truth, outcomes, fixed)
    return CaseData(case, data, priors, truth, outcomes, design_fingerprint(data, fixed))


REDRAWS = 20  # rounds of fresh simulations behind with_a_count


def with_a_count(data: ModelData, priors: dict[str, Prior], seed: int, truth: xr.Dataset, outcomes: np.ndarray,
                 fixed: dict | None = None) -> tuple[xr.Dataset, np.ndarray]:
    """A hurdle's simulations with at least one positive row: those without (the count part, scaled on its positive
    rows, is not defined for them) are replaced by fresh simulations that have one. The ranks stay uniform: their
    uniformity holds given each simulated data set, so it holds given any event the data decide."""
    empty = np.flatnonzero(~(outcomes > 0).any(axis=1))
    truth, outcomes = truth.copy(deep=True), outcomes.copy()
    for attempt in range(1, REDRAWS + 1):
        if not empty.size:
            return truth, outcomes
        extra, drawn = simulate(data, priors, empty.size, seed + 100_003 * attempt, fixed)
        usable = np.flatnonzero((drawn > 0).any(axis=1))[:empty.size]
        taken, empty = empty[:usable.size], empty[usable.size:]
        outcomes[taken] = drawn[usable]
        for name in truth.data_vars:
            values = truth[name].values
            values[taken] = extra[name].values[usable]
    if empty.size:
        raise CalibrationError(f"{empty.size} simulations had no positive row in {REDRAWS} rounds of redraws: the "
                               "case's events are too few for a hurdle")
    return truth, outcomes


def record_path(cache: Path, prepared: CaseData, index: int) -> Path:
    return Path(cache) / f"{prepared.case.name}-{prepared.key}" / f"sim_{index:04d}.json"


def run_case(prepared: CaseData, cache: Path, scheduler: str | None = None,
             on_done: Callable[[int, bool], None] | None = None) -> list[dict]:
    """Every simulation's record, from the cache or fitted (on Dask, or serially with scheduler="serial")."""
    records: dict[int, dict] = {}
    todo = []
    for i in range(prepared.case.run.simulations):
        path = record_path(cache, prepared, i)
        if path.is_file():
            records[i] = json.loads(path.read_text())
            if on_done:
                on_done(i, True)
        else:
            todo.append(i)
    case, data, priors = prepared.case, prepared.data, prepared.priors

    def save(task: int, record: dict) -> None:
        i = todo[task]
        path = record_path(cache, prepared, i)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(record))
        records[i] = record
        if on_done:
            on_done(i, False)

    tasks = [(data, case, priors, i, prepared.truth.isel(simulation=i), prepared.outcomes[i], prepared.key)
             for i in todo]
    fan_out(simulation_record, tasks, scheduler, case.run.chains, save)
    return [records[i] for i in range(case.run.simulations)]


# --- summaries --------------------------------------------------------------------------------------------------

def pit_dataset(records: list[dict]) -> xr.Dataset:
    """The PIT values of every quantity over the simulations (dim `simulation`), as ArviZ's SBC plots take them."""
    names = list(records[0]["pit"])
    return xr.Dataset({name: ("simulation", np.array([r["pit"][name] for r in records])) for name in names},
                      coords={"simulation": [r["simulation"] for r in records]})


def uniformity_p_values(pits: np.ndarray) -> np.ndarray:
    """ArviZ's uniformity test (POT-C, Tesso & Vehtari) of each column of PIT values (simulation, quantity)."""
    from arviz_stats.base import array_stats

    return np.array([float(array_stats.uniformity_test(pits[:, j], method="pot_c")[0]) for j in range(pits.shape[1])])


def uniformity(records: list[dict], alpha: float = 0.05) -> pd.DataFrame:
    """Per quantity: ArviZ's uniformity test of the PIT values (POT-C, Tesso & Vehtari), Holm-adjusted across the
    case's quantities, and whether it passes at `alpha` (familywise)."""
    from statsmodels.stats.multitest import multipletests

    pits = pit_dataset(records)
    names = list(pits.data_vars)
    p_values = uniformity_p_values(np.column_stack([np.asarray(pits[n]) for n in names]))
    adjusted = multipletests(p_values, method="holm")[1]
    mean_pit = np.array([float(pits[n].mean()) for n in names])
    return pd.DataFrame({"quantity": names, "simulations": len(records), "p_value": p_values, "p_holm": adjusted,
                         "mean_pit": mean_pit, "passed": adjusted >= alpha})


def flag_rate(records: list[dict], alpha: float, size: int, resamples: int = POWER_RESAMPLES, seed: int = 0
              ) -> float:
    """How often the case's test (every quantity's uniformity test, Holm-adjusted, at `alpha`) flags `size`
    simulations like these: the share of random subsets of `size` of the records (drawn without replacement) that it
    flags. Every such subset of independent simulations is itself a set of `size` independent simulations, so the
    share is an unbiased estimate (over pools of records) of the test's rejection rate at `size`: its power against
    an injected error, its false-alarm rate without one. One pool's estimate varies around it, less so the larger
    the pool beyond `size`."""
    pits = np.column_stack([np.asarray(v) for v in pit_dataset(records).data_vars.values()])  # (simulation, quantity)
    pool, m = pits.shape
    if size > pool:
        raise CalibrationError(f"a flag rate at {size} simulations needs at least as many records, got {pool}")
    rng = np.random.default_rng(seed)
    subsets = resamples if pool > size else 1  # a pool of `size` is one subset: the run's own verdict
    # Holm rejects some hypothesis exactly when its first step does (smallest p below alpha / m); statsmodels'
    # multipletests, which `uniformity` uses, collects garbage on every call, too slow for a thousand subsets
    flagged = sum(uniformity_p_values(pits[rng.choice(pool, size, replace=False)]).min() < alpha / m
                  for _ in range(subsets))
    return flagged / subsets


def coverage(records: list[dict], probs: tuple[float, ...] = (0.5, 0.94)) -> pd.DataFrame:
    """Per quantity: how often the central intervals of `probs` covered the truth (from the PIT: the truth lies in
    the central interval of probability c when |PIT - 0.5| < c / 2), the mean truth, the mean posterior mean and
    the mean z-score of the truth."""
    pits = pit_dataset(records)
    rows = []
    for name in pits.data_vars:
        pit = np.asarray(pits[name])
        truth = np.array([r["truth"][name] for r in records])
        mean = np.array([r["mean"][name] for r in records])
        sd = np.array([r["sd"][name] for r in records])
        row = {"quantity": name, "simulations": len(records), "truth": truth.mean(), "posterior_mean": mean.mean()}
        for p in probs:
            row[f"coverage_{round(100 * p)}"] = float((np.abs(pit - 0.5) < p / 2).mean())
        row["mean_z"] = float(np.mean((mean - truth) / np.where(sd > 0, sd, np.nan)))
        rows.append(row)
    return pd.DataFrame(rows)


def sampler_summary(records: list[dict]) -> dict:
    """Events, divergences, fits that did not sample (bulk ESS below FAILED_ESS), R-hat, ESS and time over a case's
    simulations."""
    events = np.array([r["events"] for r in records])
    return {"simulations": len(records), "rows": records[0]["rows"], "events_median": float(np.median(events)),
            "events_min": int(events.min()), "events_max": int(events.max()),
            "with_divergences": int(sum(r["divergences"] > 0 for r in records)),
            "failed": int(sum(r["min_ess_bulk"] < FAILED_ESS for r in records)),
            "max_rhat": float(max(r["max_rhat"] for r in records)),
            "min_ess_bulk": float(min(r["min_ess_bulk"] for r in records)),
            "seconds_per_fit": float(np.mean([r["seconds"] for r in records]))}
