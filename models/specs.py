"""Model specifications (outcome, covariates, interaction, sample, family, grouping), separate from any fitting
code.

The paper's six models are defined here once; the frequentist reproduction and the PyMC builders both read them.
Users add their own in a TOML file (`load_specs`) without writing PyMC: a table per model, either complete or
starting from a paper model with `base = "m4"` and changing what differs. Covariate names are panel variables;
an interaction is written "x:z" and built as the product of the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from data_prep.io import check_safe_name, read_toml

CONTROLS = ("shared_defense_pact", "regime_difference", "recent_coup_a", "new_regime_a", "military_regime_a")
FAMILIES = ("logit", "hurdle")
GROUPINGS = ("dyad", "undirected_dyad", "state_a")
COUNT_FAMILIES = ("poisson", "negbin")


class SpecError(ValueError):
    """A model spec that is malformed, or asks for something the panel does not have."""


@dataclass(frozen=True)
class ModelSpec:
    """One model: a logit of a binary outcome, or a hurdle model of a count (zero part logit, truncated counts)."""

    name: str
    label: str
    family: str  # "logit" or "hurdle"
    outcome: str
    covariates: tuple[str, ...]
    interaction: tuple[str, str]
    sample: str  # name of the panel's boolean mask
    group: str = "dyad"  # the random intercept's grouping: dyad (directed), undirected_dyad or state_a
    year_effects: bool = False  # add partially pooled year intercepts
    count_family: str = "poisson"  # hurdle count part: zero-truncated poisson or negbin
    description: str = ""
    paper_table: str = field(default="")

    def __post_init__(self) -> None:
        check_safe_name(self.name, "model name", SpecError)  # the name becomes part of output file names
        problems = []
        for name in ("covariates", "interaction"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                problems.append(f"{name} must be a list of variable names")
        if not isinstance(self.year_effects, bool):
            problems.append("year_effects must be true or false")
        if problems:
            raise SpecError(f"model {self.name}: " + "; ".join(problems))
        if self.family not in FAMILIES:
            problems.append(f"family must be one of {', '.join(FAMILIES)}, got {self.family!r}")
        if self.group not in GROUPINGS:
            problems.append(f"group must be one of {', '.join(GROUPINGS)}, got {self.group!r}")
        if self.count_family not in COUNT_FAMILIES:
            problems.append(f"count_family must be one of {', '.join(COUNT_FAMILIES)}, got {self.count_family!r}")
        if len(self.interaction) != 2:
            problems.append("interaction must name exactly two variables")
        elif not set(self.interaction) <= set(self.covariates):
            problems.append("both variables of the interaction must also be covariates (constitutive terms)")
        if problems:
            raise SpecError(f"model {self.name}: " + "; ".join(problems))

    @property
    def interaction_term(self) -> str:
        return f"{self.interaction[0]}:{self.interaction[1]}"

    @property
    def terms(self) -> tuple[str, ...]:
        """Covariates in order, with the interaction after its constitutive terms."""
        return (*self.covariates, self.interaction_term)

    @property
    def variables(self) -> tuple[str, ...]:
        """Every panel variable the model reads."""
        return (self.outcome, *dict.fromkeys((*self.covariates, *self.interaction)))


def _logit(name, label, covariates, interaction, sample, description):
    return ModelSpec(name, label, "logit", "new_defense_pact", covariates, interaction, sample,
                     description=description, paper_table="Table 1")


PAPER_MODELS: dict[str, ModelSpec] = {
    "m1": _logit("m1", "Table 1 Model 1", ("counterbalancing_a", "threat_a"), ("counterbalancing_a", "threat_a"),
                 "sample_no_controls", "entanglement: counterbalancing x threat to A, no controls"),
    "m2": _logit("m2", "Table 1 Model 2", ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS),
                 ("counterbalancing_a", "threat_a"), "sample_controls",
                 "entanglement: counterbalancing x threat to A, with controls"),
    "m3": _logit("m3", "Table 1 Model 3", ("counterbalancing_a", "threat_b"), ("counterbalancing_a", "threat_b"),
                 "sample_no_controls", "aggregate capabilities: counterbalancing x threat to B, no controls"),
    "m4": _logit("m4", "Table 1 Model 4", ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS),
                 ("counterbalancing_a", "threat_b"), "sample_controls",
                 "aggregate capabilities: counterbalancing x threat to B, with controls"),
    "h1": ModelSpec("h1", "Table 2 Model 1", "hurdle", "concessions_a",
                    ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS), ("counterbalancing_a", "threat_a"),
                    "sample_controls", description="concessions by A: counterbalancing x threat to A",
                    paper_table="Table 2"),
    "h2": ModelSpec("h2", "Table 2 Model 2", "hurdle", "concessions_b",
                    ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS), ("counterbalancing_a", "threat_b"),
                    "sample_controls", description="concessions by B: counterbalancing x threat to B",
                    paper_table="Table 2"),
}


SPEC_KEYS = {f.name for f in fields(ModelSpec)} - {"name"}
REQUIRED_KEYS = ("family", "outcome", "covariates", "interaction", "sample")


def spec_from_config(name: str, entry: dict, source: str = "<specs>",
                     known: dict[str, ModelSpec] = PAPER_MODELS) -> ModelSpec:
    """One spec from a TOML table: complete, or `base = "<known model>"` plus the fields that differ."""
    if not isinstance(entry, dict):
        raise SpecError(f"{source}: [{name}] must be a table of spec fields")
    unknown = sorted(set(entry) - SPEC_KEYS - {"base"})
    if unknown:
        raise SpecError(f"{source}: [{name}] unknown field(s) {', '.join(unknown)}; "
                        f"known: base, {', '.join(sorted(SPEC_KEYS))}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items() if k != "base"}
    if "base" in entry:
        if entry["base"] not in known:
            raise SpecError(f"{source}: [{name}] base {entry['base']!r} is not a known model ({', '.join(known)})")
        base = known[entry["base"]]
        values.setdefault("label", f"{base.label}, modified")
        try:
            return replace(base, name=name, paper_table="", **values)
        except TypeError as exc:
            raise SpecError(f"{source}: [{name}] {exc}") from None
    missing = [k for k in REQUIRED_KEYS if k not in values]
    if missing:
        raise SpecError(f"{source}: [{name}] missing field(s) {', '.join(missing)} (or give base = a known model)")
    values.setdefault("label", name)
    return ModelSpec(name=name, **values)


def load_specs(path: str | Path | None = None) -> dict[str, ModelSpec]:
    """The paper's models plus those defined in a TOML file (one table per model; a name may not shadow a paper
    model)."""
    specs = dict(PAPER_MODELS)
    if path is None:
        return specs
    config = read_toml(path, "model spec file", SpecError)
    for name, entry in config.items():
        if name in PAPER_MODELS:
            raise SpecError(f"{path}: [{name}] would replace the paper's model {name}; choose another name")
        specs[name] = spec_from_config(name, entry, str(path), specs)
    return specs


def with_options(spec: ModelSpec, group: str | None = None, year_effects: bool | None = None) -> ModelSpec:
    """The spec with another grouping and/or year effects, renamed so its saved fit does not replace the
    original's (e.g. m4 -> m4-undirected_dyad-years)."""
    changes, suffix = {}, ""
    if group is not None and group != spec.group:
        changes["group"], suffix = group, f"-{group}"
    if year_effects is not None and year_effects != spec.year_effects:
        changes["year_effects"], suffix = year_effects, suffix + ("-years" if year_effects else "-noyears")
    return replace(spec, name=spec.name + suffix, **changes) if changes else spec


def get_spec(name: str, specs: dict[str, ModelSpec] = PAPER_MODELS) -> ModelSpec:
    """The spec called `name`; an unknown name raises SpecError listing the known ones."""
    try:
        return specs[name]
    except KeyError:
        raise SpecError(f"unknown model {name!r}; known models: {', '.join(specs)}") from None
