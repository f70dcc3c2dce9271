"""Priors from a TOML file: one table per parameter group, each naming a PyMC distribution and its arguments.

Errors (unknown group, unknown distribution, a missing or misspelled argument, a negative scale) are raised as
`PriorError` with the file and the entry named, before any model is built.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pymc as pm

from data_prep.io import read_toml

DEFAULT_PRIORS = Path(__file__).resolve().parent / "priors" / "default.toml"

GROUPS = ("intercept", "slopes", "group_sd", "year_sd", "count_intercept", "count_slopes", "count_alpha", "cutpoints")
POSITIVE_GROUPS = ("group_sd", "year_sd", "count_alpha")
RENAMED = {"dyad_sd": "group_sd"}  # prior groups of earlier versions
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
}
MAX_MAGNITUDE = 1e6  # largest prior argument accepted (location, scale, degrees of freedom)
MIN_SCALE = 1e-6  # smallest scale, rate or degrees of freedom: below it the prior is a numerical point mass
POSITIVE_ONLY = {"HalfNormal", "HalfStudentT", "HalfCauchy", "Exponential", "Gamma"}
LOCATIONS = {"Normal": "mu", "StudentT": "mu", "Cauchy": "alpha"}  # each location family's centre argument
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

    def create(self, name: str, **extra):
        """The PyMC random variable `name` with this prior (inside a model context)."""
        return DISTRIBUTIONS[self.dist][0](name, **self.kwargs, **extra)

    def create_shifted(self, name: str, shift, sampled_name: str):
        """`name` with this prior, sampled as `sampled_name` = `name` + `shift` (a tensor of other parameters):
        the same joint density (the change of variables has Jacobian 1), with the prior's centre moved by `shift`.
        Priors without a location argument are created as they are."""
        if self.dist not in LOCATIONS:
            return self.create(name)
        import pytensor.tensor as pt

        centre = LOCATIONS[self.dist]
        kwargs = {**self.kwargs, centre: self.kwargs.get(centre, 0.0) + shift}
        sampled = DISTRIBUTIONS[self.dist][0](sampled_name, **kwargs)
        return pm.Deterministic(name, sampled - pt.as_tensor(shift))

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
        return f"{self.dist}({', '.join(f'{k}={v:g}' for k, v in self.kwargs.items())})"


def _parse_entry(group: str, entry: dict, source: str) -> Prior:
    if not isinstance(entry, dict) or "dist" not in entry:
        raise PriorError(f"{source}: [{group}] needs a 'dist' key naming one of {', '.join(DISTRIBUTIONS)}")
    dist = entry["dist"]
    if dist not in DISTRIBUTIONS:
        raise PriorError(f"{source}: [{group}] unknown distribution {dist!r}; use one of {', '.join(DISTRIBUTIONS)}")
    if group in POSITIVE_GROUPS and dist not in POSITIVE_ONLY:
        raise PriorError(f"{source}: [{group}] is a standard deviation; use one of {', '.join(sorted(POSITIVE_ONLY))}")
    if group == "cutpoints" and dist in POSITIVE_ONLY:
        raise PriorError(f"{source}: [cutpoints] cut points may be negative; use Normal, StudentT or Cauchy")
    args = {k: v for k, v in entry.items() if k != "dist"}
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
    for key, value in args.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise PriorError(f"{source}: [{group}] {key} must be a finite number, got {value!r}")
        if abs(value) > MAX_MAGNITUDE:
            raise PriorError(f"{source}: [{group}] {key} = {value:g} is beyond +-{MAX_MAGNITUDE:g}: on standardised "
                             "covariates and the logit scale no prior needs it, and the sampler would overflow")
        positive = {"sigma", "beta", "lam", "nu"} | ({"alpha"} if dist == "Gamma" else set())
        if key in positive and value < MIN_SCALE:
            raise PriorError(f"{source}: [{group}] {key} must be at least {MIN_SCALE:g} (positive), got {value}")
    return Prior(dist, {k: float(v) for k, v in args.items()})


def priors_config(priors: dict[str, Prior]) -> dict[str, dict]:
    """Priors in the prior-file form ({group: {"dist": ..., arguments}}), as fits record them."""
    return {group: {"dist": p.dist, **p.kwargs} for group, p in priors.items()}


def parse_priors(config: dict, source: str = "<priors>") -> dict[str, Prior]:
    """Priors for every group: the defaults, overridden by the groups given in `config`."""
    unknown = sorted(set(config) - set(GROUPS))
    renamed = [f"{old} is now {RENAMED[old]}" for old in unknown if old in RENAMED]
    if renamed:
        raise PriorError(f"{source}: {'; '.join(renamed)} (the sd of whatever grouping the formula names)")
    if unknown:
        raise PriorError(f"{source}: unknown prior parameter(s) {', '.join(unknown)}; known: {', '.join(GROUPS)}")
    defaults = tomllib.loads(DEFAULT_PRIORS.read_text())
    merged = {**defaults, **config}
    return {group: _parse_entry(group, merged[group], source) for group in GROUPS}


def load_priors(path: str | Path | None = None) -> dict[str, Prior]:
    """Priors from a TOML file (groups it does not name keep their defaults); None gives the defaults."""
    if path is None:
        return parse_priors({}, str(DEFAULT_PRIORS))
    return parse_priors(read_toml(path, "prior file", PriorError), str(path))
