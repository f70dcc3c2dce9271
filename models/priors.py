"""Priors from a TOML file: one table per parameter group, each naming a PyMC distribution and its arguments.

Packaged sets (`models/priors/<name>.toml`) can be named instead of a path: "default" (Gelman et al. 2008's rule,
see docs/priors.md), "regularising" (the defaults before it) and "wide". A file may start from one with
`base = "<set>"` and change some groups. Slopes take a `scale_rule`: "per_sd" (the prior is on the slope per
standard deviation of each design column) or "gelman2008" (on the coefficients of centred inputs rescaled to sd
0.5, binary inputs 1 apart, interactions as products of rescaled inputs; models.prior_scales). The intercept's
prior `applies_to` the average group (intercept + sd^2/2: for rare events the log-odds of the base rate) or the
group whose effect is zero.

A group given without its `scale_rule` or `applies_to` keeps the base set's (a partial prior changes what it states,
nothing else); write scale_rule = "per_sd" to put a slope prior on the per-sd slopes.

Errors (unknown group, unknown distribution, a missing or misspelled argument, a negative scale) are raised as
`PriorError` with the file and the entry named, before any model is built.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pymc as pm

from data_prep.io import read_toml

PRIOR_FOLDER = Path(__file__).resolve().parent / "priors"
DEFAULT_PRIORS = PRIOR_FOLDER / "default.toml"
PACKAGED_SETS = ("default", "regularising", "wide")  # prior files that can be named instead of given by path

GROUPS = ("intercept", "slopes", "group_sd", "year_sd", "count_intercept", "count_slopes", "count_alpha", "cutpoints")
POSITIVE_GROUPS = ("group_sd", "year_sd", "count_alpha")
DISTRIBUTIONS: dict[str, tuple[type, tuple[str, ...], tuple[str, ...]]] = {
    # name: (PyMC class, required arguments, optional arguments)
    "Normal": (pm.Normal, ("sigma",), ("mu",)),
    "StudentT": (pm.StudentT, ("nu", "sigma"), ("mu",)),
    "Cauchy": (pm.Cauchy, ("beta",), ("alpha",)),
    "HalfNormal": (pm.HalfNormal, ("sigma",), ()),
    "HalfStudentT": (pm.HalfStudentT, ("nu", "sigma"), ()),
    "HalfCauchy": (pm.HalfCauchy, ("beta",), ()),
    "Exponential": (pm.Exponential, ("lam",), ()),
    "Gamma": (pm.Gamma, ("alpha", "beta"), ()),
    "Dirichlet": (pm.Dirichlet, ("alpha",), ()),  # cut points only: on the category probabilities (builders)
}
MAX_MAGNITUDE = 1e6  # largest prior argument accepted (location, scale, degrees of freedom)
MIN_SCALE = 1e-6  # smallest scale, rate or degrees of freedom: below it the prior is a numerical point mass
POSITIVE_ONLY = {"HalfNormal", "HalfStudentT", "HalfCauchy", "Exponential", "Gamma"}
LOCATIONS = {"Normal": "mu", "StudentT": "mu", "Cauchy": "alpha"}  # each location family's centre argument
DEFAULT_ARGUMENTS = {"mu": 0.0, "alpha": 0.0}  # PyMC's defaults of the optional arguments
SCALE_RULES = ("per_sd", "gelman2008")  # what a slope prior is on: the standardised slopes, or rescaled inputs
SCALED_GROUPS = ("slopes", "count_slopes")  # the groups that take a scale_rule
INTERCEPT_TARGETS = ("average_row", "average_group", "zero_group")  # what the intercept's prior is on (builders)
COUNT_INTERCEPT_TARGETS = ("average_row", "at_means")  # what the count intercept's prior is on (builders)
TARGETS = {"intercept": INTERCEPT_TARGETS, "count_intercept": COUNT_INTERCEPT_TARGETS}
# Scale priors whose mirror image about zero is a smooth symmetric distribution: (twin, its centre argument).
SIGNED_TWINS: dict[str, tuple[type, str]] = {
    "HalfNormal": (pm.Normal, "mu"), "HalfStudentT": (pm.StudentT, "mu"), "HalfCauchy": (pm.Cauchy, "alpha"),
}


class PriorError(ValueError):
    """A prior configuration that cannot be used."""


@dataclass(frozen=True)
class Prior:
    """One prior: a PyMC distribution name and its keyword arguments."""

    dist: str
    kwargs: dict[str, float]
    scale_rule: str = "per_sd"  # slopes: see SCALE_RULES and models.prior_scales
    applies_to: str = "average_row"  # intercept: see INTERCEPT_TARGETS
    terms: dict[str, dict[str, float]] = field(default_factory=dict)  # slopes: arguments changed for single terms

    def create(self, name: str, **extra):
        """The PyMC random variable `name` with this prior (inside a model context)."""
        return DISTRIBUTIONS[self.dist][0](name, **self.kwargs, **extra)

    def create_for_terms(self, name: str, terms: tuple[str, ...], **extra):
        """A vector random variable `name`, one element per term, with this prior; a term named in `self.terms`
        gets its own arguments (brms' `set_prior(..., coef = ...)`). Raises PriorError naming a term the model
        does not have."""
        unknown = [t for t in self.terms if t not in terms]
        if unknown:
            raise PriorError(f"a prior is given for term(s) {', '.join(unknown)}, which the model does not have "
                             f"(its terms: {', '.join(terms)})")
        if not self.terms:
            return self.create(name, **extra)
        import numpy as np

        kwargs = {key: np.array([self.terms.get(t, {}).get(key, self.kwargs.get(key, DEFAULT_ARGUMENTS.get(key)))
                                 for t in terms], dtype=float)
                  for key in {*self.kwargs, *(k for a in self.terms.values() for k in a)}}
        return DISTRIBUTIONS[self.dist][0](name, **kwargs, **extra)

    def create_shifted(self, name: str, shift, sampled_name: str, **extra):
        """`name` with this prior, sampled as `sampled_name` = `name` + `shift` (a tensor of other parameters):
        the same joint density (the change of variables has Jacobian 1), with the prior's centre moved by `shift`.
        Priors without a location argument are created as they are; `extra` goes to the sampled variable."""
        if self.dist not in LOCATIONS:
            return self.create(name, **extra)
        import pytensor.tensor as pt

        centre = LOCATIONS[self.dist]
        kwargs = {**self.kwargs, centre: self.kwargs.get(centre, 0.0) + shift}
        sampled = DISTRIBUTIONS[self.dist][0](sampled_name, **kwargs, **extra)
        return pm.Deterministic(name, sampled - pt.as_tensor(shift))

    def logpdf(self, values) -> "np.ndarray":
        """The prior's log density at `values` (an array), as PyMC computes it: e.g. to reweight a fit's draws to
        another prior."""
        import numpy as np

        dist = DISTRIBUTIONS[self.dist][0].dist(**self.kwargs)
        return np.asarray(pm.logp(dist, np.asarray(values, dtype=float)).eval(), dtype=float)

    def create_scale(self, name: str):
        """A standard deviation with this prior. Where the prior has a smooth symmetric twin (half-normal,
        half-Student-t, half-Cauchy), NUTS samples a signed value s from the twin and `name` = |s|: the same
        posterior for |s| (the likelihood depends on the scale only through its square), but a smooth density
        through zero instead of the long left tail that log(sd) has when the data allow sd near 0."""
        if self.dist not in SIGNED_TWINS:
            return self.create(name)
        import pytensor.tensor as pt

        twin, centre = SIGNED_TWINS[self.dist]
        signed = twin(f"{name}_signed", **{centre: 0.0}, **self.kwargs)
        return pm.Deterministic(name, pt.abs(signed))

    def describe(self) -> str:
        """The prior as written: distribution, arguments, the scale rule and any per-term arguments."""
        text = f"{self.dist}({_arguments(self.kwargs)})"
        text = text if self.scale_rule == "per_sd" else f"{text} on rescaled inputs ({self.scale_rule})"
        return text + "".join(f"; {term}: {self.dist}({_arguments({**self.kwargs, **args})})"
                              for term, args in self.terms.items())


def _arguments(kwargs: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in kwargs.items())


def _parse_entry(group: str, entry: dict, source: str) -> Prior:
    if not isinstance(entry, dict) or "dist" not in entry:
        raise PriorError(f"{source}: [{group}] needs a 'dist' key naming one of {', '.join(DISTRIBUTIONS)}")
    dist = entry["dist"]
    if dist not in DISTRIBUTIONS:
        raise PriorError(f"{source}: [{group}] unknown distribution {dist!r}; use one of {', '.join(DISTRIBUTIONS)}")
    if group in POSITIVE_GROUPS and dist not in POSITIVE_ONLY:
        raise PriorError(f"{source}: [{group}] is a standard deviation; use one of {', '.join(sorted(POSITIVE_ONLY))}")
    if group == "cutpoints" and dist in POSITIVE_ONLY:
        raise PriorError(f"{source}: [cutpoints] cut points may be negative; use Dirichlet, Normal, StudentT or "
                         "Cauchy")
    if dist == "Dirichlet" and group != "cutpoints":
        raise PriorError(f"{source}: [{group}] Dirichlet is only for the cut points (on the category probabilities)")
    args = {k: v for k, v in entry.items() if k not in ("dist", "terms")}
    options = _pop_options(group, args, source)
    terms = _parse_terms(group, dist, entry.get("terms", {}), source)
    if "base_rate" in args:
        if dist != "Normal" or group not in ("intercept",):
            raise PriorError(f"{source}: [{group}] 'base_rate' is only for a Normal intercept")
        rate = args.pop("base_rate")
        if not (isinstance(rate, (int, float)) and 0 < rate < 1):
            raise PriorError(f"{source}: [{group}] base_rate must be a number in (0, 1), got {rate!r}")
        args["mu"] = math.log(rate / (1 - rate))
    _cls, required, optional = DISTRIBUTIONS[dist]
    unknown = sorted(set(args) - set(required) - set(optional))
    missing = [a for a in required if a not in args]
    if unknown or missing:
        raise PriorError(f"{source}: [{group}] {dist} takes {', '.join(required + optional)}"
                         + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                         + (f"; missing: {', '.join(missing)}" if missing else ""))
    _check_numbers(args, dist, f"{source}: [{group}]")
    return Prior(dist, {k: float(v) for k, v in args.items()}, **options, terms=terms)


def _check_numbers(args: dict, dist: str, where: str) -> None:
    """Every argument a finite number within range, scales positive; a PriorError naming `where` otherwise."""
    for key, value in args.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise PriorError(f"{where} {key} must be a finite number, got {value!r}")
        if abs(value) > MAX_MAGNITUDE:
            raise PriorError(f"{where} {key} = {value:g} is beyond +-{MAX_MAGNITUDE:g}: on standardised "
                             "covariates and the logit scale no prior needs it, and the sampler would overflow")
        positive = {"sigma", "beta", "lam", "nu"} | ({"alpha"} if dist in ("Gamma", "Dirichlet") else set())
        if key in positive and value < MIN_SCALE:
            raise PriorError(f"{where} {key} must be at least {MIN_SCALE:g} (positive), got {value}")


def _parse_terms(group: str, dist: str, terms, source: str) -> dict[str, dict[str, float]]:
    """Per-term arguments of a slope group ({term: {argument: value}}): the group's distribution with other
    arguments for those terms (a term's prior is on what the group's is: its rescaled or per-sd coefficient)."""
    if not terms:
        return {}
    if group not in SCALED_GROUPS:
        raise PriorError(f"{source}: [{group}] 'terms' is only for {' and '.join(SCALED_GROUPS)}")
    if not isinstance(terms, dict):
        raise PriorError(f"{source}: [{group}] terms must be a table of term = {{argument = value, ...}}")
    _cls, required, optional = DISTRIBUTIONS[dist]
    out = {}
    for term, args in terms.items():
        where = f"{source}: [{group}.terms.\"{term}\"]"
        if not isinstance(args, dict) or not args:
            raise PriorError(f"{where} must be a table of {dist}'s arguments ({', '.join(required + optional)})")
        unknown = sorted(set(args) - set(required) - set(optional))
        if unknown:
            raise PriorError(f"{where} {dist} takes {', '.join(required + optional)}; unknown: {', '.join(unknown)} "
                             "(a term keeps its group's distribution and changes its arguments)")
        _check_numbers(args, dist, where)
        out[str(term)] = {k: float(v) for k, v in args.items()}
    return out


def _pop_options(group: str, args: dict, source: str) -> dict[str, str]:
    """The entry's scale_rule (slopes) or applies_to (intercept), removed from `args` and checked."""
    options = {}
    for key, groups in (("scale_rule", SCALED_GROUPS), ("applies_to", tuple(TARGETS))):
        if key not in args:
            continue
        value = args.pop(key)
        if group not in groups:
            raise PriorError(f"{source}: [{group}] '{key}' is only for {' and '.join(groups)}")
        allowed = SCALE_RULES if key == "scale_rule" else TARGETS[group]
        if value not in allowed:
            raise PriorError(f"{source}: [{group}] {key} must be one of {', '.join(allowed)}, got {value!r}")
        options[key] = value
    return options


# What each prior group is on, in words (describe_priors): (name, subject), the subject by option where it has one.
SUBJECTS: dict[str, tuple[str, str | dict[str, str]]] = {
    "intercept": ("Intercept", {"average_row": "the log-odds of the event probability averaged over the sample's "
                                               "rows and groups",
                                "average_group": "the log-odds of the average group at the covariate means",
                                "zero_group": "the log-odds of a group whose intercept is 0, at the covariate means"}),
    "slopes": ("Slopes", {"gelman2008": "the coefficients of inputs rescaled as Gelman et al. (2008) do (numbers to "
                                        "sd 0.5, binary inputs 1 apart, interactions as products)",
                          "per_sd": "each slope per standard deviation of its design column"}),
    "group_sd": ("Group sd", "the sd of the {group} intercepts"),
    "year_sd": ("Year sd", "the sd of the year intercepts"),
    "count_intercept": ("Count intercept", {"average_row": "the log of the expected count (before truncation) "
                                                           "averaged over the positive rows",
                                            "at_means": "the log expected count at the positive rows' covariate "
                                                        "means"}),
    "count_slopes": ("Count slopes", {"gelman2008": "the count part's coefficients of inputs rescaled as Gelman et "
                                                    "al. (2008) do, on the positive rows",
                                      "per_sd": "each count slope per standard deviation of its column on the "
                                                "positive rows"}),
    "count_alpha": ("Dispersion", "the negative binomial's alpha"),
    "cutpoints": ("Cut points", {"Dirichlet": "the category probabilities averaged over the sample's rows and groups "
                                              "(the cut points give their cumulative log-odds; rstanarm's stan_polr "
                                              "puts it at the covariate means)",
                                 "ordered": "each ordered cut point on the latent logit scale at the covariate means"}),
}


def describe_priors(priors: dict[str, Prior], groups: tuple[str, ...], grouping: str | None = None,
                    years: bool = False) -> list[str]:
    """One sentence per prior group a model uses: its distribution and what it is on, in words (for fit summaries
    and reports). `grouping` names the group intercepts (None: no group sd); `years`: the formula has (1 | year)."""
    lines = []
    for group in groups:
        if (group == "group_sd" and grouping is None) or (group == "year_sd" and not years):
            continue
        prior = priors[group]
        name, subject = SUBJECTS[group]
        if isinstance(subject, dict):
            subject = subject[prior.applies_to if group in TARGETS else
                              ("Dirichlet" if prior.dist == "Dirichlet" else "ordered") if group == "cutpoints" else
                              prior.scale_rule]
        text = f"{prior.dist}({_arguments(prior.kwargs)}) on {subject.format(group=grouping or '')}"
        text += "".join(f"; for {term}, {prior.dist}({_arguments({**prior.kwargs, **args})})"
                        for term, args in prior.terms.items())
        if group == "intercept" and prior.dist == "Normal":
            low, high = (prior.kwargs.get("mu", 0.0) + z * prior.kwargs["sigma"] for z in (-1.645, 1.645))
            text += f" (event rates from {1 / (1 + math.exp(-low)):.2g} to {1 / (1 + math.exp(-high)):.2g} in its " \
                    "central 90%)"
        lines.append(f"{name}: {text}.")
    return lines


def priors_config(priors: dict[str, Prior]) -> dict[str, dict]:
    """Priors in the prior-file form ({group: {"dist": ..., arguments}}), as fits record them (with every option
    written out, so that a fit means the same whatever later defaults say)."""
    options = {group: {"scale_rule": p.scale_rule} if group in SCALED_GROUPS
               else {"applies_to": p.applies_to} if group in TARGETS else {} for group, p in priors.items()}
    return {group: {"dist": p.dist, **p.kwargs, **options[group], **({"terms": p.terms} if p.terms else {})}
            for group, p in priors.items()}


def packaged_priors(name: str) -> Path:
    """The file of a packaged prior set; an unknown name raises PriorError listing them."""
    if name not in PACKAGED_SETS:
        raise PriorError(f"unknown prior set {name!r}; packaged sets: {', '.join(PACKAGED_SETS)} (or give a file)")
    return PRIOR_FOLDER / f"{name}.toml"


def parse_priors(config: dict, source: str = "<priors>") -> dict[str, Prior]:
    """Priors for every group: those of the packaged set `config["base"]` (default: "default"), overridden by the
    groups given in `config`."""
    config = dict(config)
    base = config.pop("base", "default")
    if not isinstance(base, str) or base not in PACKAGED_SETS:
        raise PriorError(f"{source}: base must name a packaged prior set ({', '.join(PACKAGED_SETS)}), got {base!r}")
    unknown = sorted(set(config) - set(GROUPS))
    if unknown:
        raise PriorError(f"{source}: unknown prior parameter(s) {', '.join(unknown)}; known: {', '.join(GROUPS)}")
    defaults = tomllib.loads(DEFAULT_PRIORS.read_text())
    if base != "default":
        defaults.update(tomllib.loads(packaged_priors(base).read_text()))
    merged = {**defaults, **{group: _with_options_of(entry, defaults[group]) for group, entry in config.items()}}
    return {group: _parse_entry(group, merged[group], source) for group in GROUPS}


def _with_options_of(entry, base: dict):
    """A group's entry completed from the base set's: its `scale_rule` or `applies_to` where the entry does not
    state its own (a prior given as {dist, sigma} changes the distribution, not what the prior is on), and, for an
    entry without `dist`, the base's distribution and arguments too (`{sigma = 1}` or a `terms` table alone changes
    those arguments of the base's prior)."""
    if not isinstance(entry, dict):
        return entry
    if "dist" not in entry:
        return {**base, **entry}
    return {**{k: base[k] for k in ("scale_rule", "applies_to") if k in base}, **entry}


def load_priors(path: str | Path | None = None) -> dict[str, Prior]:
    """Priors from a TOML file (groups it does not name keep their defaults) or a packaged set's name; None gives
    the defaults."""
    if path is None:
        return parse_priors({}, str(DEFAULT_PRIORS))
    if not Path(path).exists() and str(path) in PACKAGED_SETS:
        return parse_priors({"base": str(path)}, str(packaged_priors(str(path))))
    return parse_priors(read_toml(path, "prior file", PriorError), str(path))
