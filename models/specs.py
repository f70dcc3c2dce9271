"""Model specifications: a formula, a family and an estimation sample, separate from any fitting code.

The paper's six models are formulas in one packaged TOML file (`paper_models.toml`); users add their own in a TOML
file of the same form (`load_specs`), each table either complete or starting from a known model with
`base = "m4"` and changing what differs. The frequentist fits, the PyMC builders, the reports and the Python API all
read these specs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cached_property
from pathlib import Path

from data_prep.io import check_safe_name, read_toml

from .families import FAMILIES, Family
from .formula import Formula, FormulaError

PAPER_SPECS = Path(__file__).resolve().parent / "paper_models.toml"
DYADIC_SPECS = PAPER_SPECS.with_name("dyadic_models.toml")  # the paper's models with sender and receiver intercepts
METHODS = ("marginal", "plain")
# The kinds of a paper figure a model can be drawn in (the figure's name ends with its kind): the marginal effect of
# the interaction's focal variable across its moderator (the paper's Figure 1), and the predicted probability at
# three levels of the focal variable (Figure 3).
FIGURE_KINDS = ("marginal_effects", "predicted_probabilities")


class SpecError(ValueError):
    """A model spec that is malformed, or asks for something the panel does not have."""


@dataclass(frozen=True)
class ModelSpec:
    """One model. `formula` names the outcome, the terms and the group intercept, e.g.
    `new_defense_pact ~ counterbalancing_a * threat_b + threat_a + (1 | dyad)`; `family` is bernoulli (logit),
    hurdle_poisson or hurdle_negbinomial (a logit for any count and a zero-truncated count part, whose terms are
    `count_formula` where given), or cumulative (ordinal logit). `sample` names a boolean panel variable selecting
    the estimation rows (empty: every row with the model's variables present). `method` integrates the group
    intercept out (marginal, the default for bernoulli and hurdle families) or samples it (plain, non-centred: the
    default for cumulative). `focus` names the interaction the reports centre on (default: the first two-way
    interaction of the formula). `effect` names a variable whose own effect the reports also centre on (its odds
    ratio, the probability that it lowers the outcome, predictions with it at 0 and 1), e.g. a treatment.
    `integrate` names the grouping the kernel integrates out where the formula has several (the others' intercepts
    are sampled); default: the one with the most groups in the data (models.design.model_data)."""

    name: str
    formula: str
    family: str = "bernoulli"
    sample: str = ""
    label: str = ""
    count_formula: str = ""
    method: str = ""
    focus: tuple[str, ...] = ()
    effect: str = ""
    description: str = ""
    paper_table: str = ""
    figures: tuple[str, ...] = ()
    integrate: str = ""

    def __post_init__(self) -> None:
        check_safe_name(self.name, "model name", SpecError)  # the name becomes part of output file names
        for key in ("formula", "family", "sample", "label", "count_formula", "method", "effect", "description",
                    "paper_table", "integrate"):
            if not isinstance(getattr(self, key), str):
                raise SpecError(f"model {self.name}: {key} must be a string, got {getattr(self, key)!r}")
        if not isinstance(self.focus, tuple) or not all(isinstance(v, str) for v in self.focus):
            raise SpecError(f"model {self.name}: focus must be a list of variable names")
        if not isinstance(self.figures, tuple) or not all(isinstance(v, str) for v in self.figures):
            raise SpecError(f"model {self.name}: figures must be a list of figure names")
        for figure in self.figures:
            check_safe_name(figure, f"model {self.name}: figure", SpecError)
            if not figure.endswith(FIGURE_KINDS):
                raise SpecError(f"model {self.name}: figure {figure!r} must end with its kind, one of "
                                f"{', '.join(FIGURE_KINDS)} (e.g. figure1_marginal_effects)")
        if self.family not in FAMILIES:
            raise SpecError(f"model {self.name}: family must be one of {', '.join(FAMILIES)}, got {self.family!r}")
        if self.method and self.method not in METHODS:
            raise SpecError(f"model {self.name}: method must be one of {', '.join(METHODS)}, got {self.method!r}")
        try:
            parsed = self.parsed
            count = self.count_parsed
        except FormulaError as exc:
            raise SpecError(f"model {self.name}: {exc}") from None
        family = self.family_info
        if family.intercept and not parsed.intercept:
            raise SpecError(f"model {self.name}: the {self.family} family needs an intercept; remove '0 +' / '- 1'")
        if self.count_formula and not family.is_hurdle:
            raise SpecError(f"model {self.name}: count_formula is only for the hurdle families")
        if count is not None and count.response != parsed.response:
            raise SpecError(f"model {self.name}: count_formula: its outcome {count.response} is not the model's "
                            f"({parsed.response}); write '~ terms'")
        if count is not None and (count.group or count.year_effects):
            raise SpecError(f"model {self.name}: count_formula: the count part has no group intercepts (its few "
                            "positive rows cannot identify them); remove the (1 | ...) terms")
        if self.method == "marginal" and (not family.marginal or parsed.group is None):
            why = ("the kernel integrates group intercepts out of logit likelihoods only"
                   if not family.marginal else "the formula has no group intercept (1 | group)")
            raise SpecError(f"model {self.name}: method marginal is not available: {why}; use method plain")
        if self.effect and self.effect not in parsed.variables:
            raise SpecError(f"model {self.name}: effect {self.effect!r} is not a variable of the formula (its "
                            f"variables: {', '.join(parsed.variables) or 'none'})")
        if self.focus:
            if len(self.focus) != 2 or tuple(self.focus) not in parsed.interactions:
                raise SpecError(f"model {self.name}: focus {list(self.focus)} must name a two-way interaction of the "
                                f"formula (its interactions: {[':'.join(i) for i in parsed.interactions] or 'none'})")

    @property
    def family_info(self) -> Family:
        """The family's entry in the registry (models.families): its parts, links, priors, report sections."""
        return FAMILIES[self.family]

    @cached_property
    def parsed(self) -> Formula:
        parsed = Formula.parse(self.formula, "formula")
        return parsed.integrating(self.integrate) if self.integrate else parsed

    @cached_property
    def count_parsed(self) -> Formula | None:
        """The hurdle count part's formula (None for other families); the zero part's terms unless given."""
        if not self.family_info.is_hurdle:
            return None
        if not self.count_formula:
            return replace(self.parsed, group=None, year_effects=False, groupings=())
        text = self.count_formula if self.count_formula.split("~")[0].strip() else \
            f"{self.parsed.response} {self.count_formula.strip()}"
        return Formula.parse(text, "count_formula")

    @property
    def outcome(self) -> str:
        return self.parsed.response

    @property
    def group(self) -> str | None:
        """The grouping whose intercepts are integrated out (or sampled, with method plain); None without one."""
        return self.parsed.group

    @property
    def year_effects(self) -> bool:
        return self.parsed.year_effects

    @property
    def fit_method(self) -> str:
        """The method used: the spec's, else marginal where the kernel applies and plain otherwise."""
        if self.method:
            return self.method
        return "marginal" if self.group is not None and self.family_info.marginal else "plain"

    @property
    def group_sd(self) -> str:
        """Name of the group intercepts' standard deviation, after the grouping (dyad_sd, state_a_sd, ...)."""
        return f"{self.group}_sd"

    @property
    def interaction(self) -> tuple[str, str] | None:
        """The interaction the reports centre on (focal variable, moderator), or None when the formula has no
        two-way interaction."""
        if self.focus:
            return self.focus[0], self.focus[1]
        two_way = [i for i in self.parsed.interactions if len(i) == 2]
        return (two_way[0][0], two_way[0][1]) if two_way else None

    @property
    def interaction_term(self) -> str | None:
        return ":".join(self.interaction) if self.interaction else None

    @property
    def variables(self) -> tuple[str, ...]:
        """Every panel variable the model reads (outcome, terms, count part), without the groupings."""
        count = self.count_parsed.variables if self.count_parsed is not None else ()
        return tuple(dict.fromkeys((self.outcome, *self.parsed.variables, *count)))


SPEC_KEYS = {f.name for f in fields(ModelSpec)} - {"name"}
REQUIRED_KEYS = ("formula",)


def spec_from_config(name: str, entry: dict, source: str = "<specs>",
                     known: dict[str, ModelSpec] | None = None) -> ModelSpec:
    """One spec from a TOML table: complete, or `base = "<known model>"` plus the fields that differ."""
    known = PAPER_MODELS if known is None else known
    if not isinstance(entry, dict):
        raise SpecError(f"{source}: [{name}] must be a table of spec fields")
    unknown = sorted(set(entry) - SPEC_KEYS - {"base"})
    if unknown:
        raise SpecError(f"{source}: [{name}] unknown field(s) {', '.join(unknown)}; "
                        f"known: base, {', '.join(sorted(SPEC_KEYS))}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items() if k != "base"}
    try:
        if "base" in entry:
            if entry["base"] not in known:
                raise SpecError(f"[{name}] base {entry['base']!r} is not a known model ({', '.join(known)})")
            base = known[entry["base"]]
            values.setdefault("label", f"{base.label}, modified")
            return replace(base, **{"name": name, "paper_table": "", "figures": (), **values})
        missing = [k for k in REQUIRED_KEYS if k not in values]
        if missing:
            raise SpecError(f"[{name}] missing field(s) {', '.join(missing)} (or give base = a known model)")
        values.setdefault("label", name)
        return ModelSpec(name=name, **values)
    except SpecError as exc:
        raise SpecError(f"{source}: {exc}") from None


def _read_specs(path: str | Path, known: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
    config = read_toml(path, "model spec file", SpecError)
    specs = dict(known)
    for name, entry in config.items():
        if name in known:
            raise SpecError(f"{path}: [{name}] would replace the model {name}; choose another name")
        specs[name] = spec_from_config(name, entry, str(path), specs)
    return specs


PAPER_MODELS: dict[str, ModelSpec] = _read_specs(PAPER_SPECS, {})


def load_specs(path: str | Path | None = None) -> dict[str, ModelSpec]:
    """The paper's models plus those defined in a TOML file (one table per model; a name may not shadow a paper
    model)."""
    return dict(PAPER_MODELS) if path is None else _read_specs(path, PAPER_MODELS)


def get_spec(name: str, specs: dict[str, ModelSpec] | None = None) -> ModelSpec:
    """The spec called `name`; an unknown name raises SpecError listing the known ones."""
    specs = PAPER_MODELS if specs is None else specs
    try:
        return specs[name]
    except KeyError:
        raise SpecError(f"unknown model {name!r}; known models: {', '.join(specs)}") from None
