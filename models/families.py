"""The model families, as one table in the manner of Bambi's `BUILTIN_FAMILIES`: each family declares what its
outcome is, the parts of its likelihood with their links, which prior groups it takes, the quantities its effects
are computed on, and which sections of the report apply to it. Every other module asks a family for these
(`get_family(name)`), so a new family is one entry here plus its builder, never a search for name comparisons.

Parts are named as the frequentist fits and the paper's tables name them: "logit" (a binary outcome), "zero" (a
hurdle's logit for any count), "count" (its zero-truncated count part), "ordinal" (the cumulative logit). Each part
says which posterior variable holds its coefficients on the covariates' original scale (`coef`, `count_coef`).
"""

from __future__ import annotations

from dataclasses import dataclass

OUTCOMES = ("binary", "count", "ordinal")  # what the outcome column holds
COUNT_DISTRIBUTIONS = ("poisson", "negbin")  # the hurdle count parts' distributions (zero-truncated)

# Report sections a family may have (beyond the population table, sampling diagnostics and model comparison, which
# every family has): marginal effects of the focal variable on the probability scale, the checks of replicated
# events, the hurdle count part's curves, rootogram and identification table.
SECTIONS = ("effect_curves", "event_checks", "count_part")


class FamilyError(ValueError):
    """An unknown family name."""


@dataclass(frozen=True)
class Part:
    """One part of a family's likelihood: its name (as the frequentist fits and the paper's tables name it), the
    posterior variable of its coefficients (original scale), the dimension of their terms, and its link."""

    name: str
    variable: str
    link: str

    @property
    def term_dim(self) -> str:
        """The posterior dimension that names the part's coefficients (`coef_term`, `count_coef_term`)."""
        return f"{self.variable}_term"


@dataclass(frozen=True)
class Family:
    """One family of the model layer. `outcome` is binary, count or ordinal; `parts` are the likelihood's parts,
    the first being the one with the group intercept (the logit, the hurdle's zero part or the ordinal logit);
    `count` names a hurdle's count distribution; `intercept` whether the formula must have one (an ordinal model's
    cut points take its place); `marginal` whether the kernel can integrate the group intercept out (logit
    likelihoods only); `priors` the prior groups it uses; `quantities` the predicted quantities of its effects
    (an ordinal family adds one per category); `sections` the report sections that apply (`SECTIONS`)."""

    name: str
    label: str
    outcome: str
    parts: tuple[Part, ...]
    priors: tuple[str, ...]
    quantities: tuple[str, ...]
    sections: tuple[str, ...]
    count: str | None = None
    intercept: bool = True
    marginal: bool = True

    @property
    def main(self) -> Part:
        """The part that carries the group intercept and the model's main coefficients (`coef`)."""
        return self.parts[0]

    @property
    def is_hurdle(self) -> bool:
        return self.count is not None

    @property
    def is_ordinal(self) -> bool:
        return self.outcome == "ordinal"

    @property
    def is_binary(self) -> bool:
        return self.outcome == "binary"

    def part(self, variable: str) -> Part:
        """The part whose coefficients are the posterior variable `variable` (coef, count_coef)."""
        for part in self.parts:
            if part.variable == variable:
                return part
        raise KeyError(f"family {self.name} has no part with coefficients {variable!r}")

    def has(self, section: str) -> bool:
        """Whether the report section `section` (one of SECTIONS) applies to this family."""
        return section in self.sections

    def event(self, outcome: str) -> str:
        """The event the main part predicts, in words: the outcome, or `outcome > 0` for a hurdle's zero part."""
        return f"{outcome} > 0" if self.is_hurdle else outcome

    def event_label(self, outcome: str) -> str:
        """The main part's probability, in words: Pr(outcome), Pr(outcome > 0) for a hurdle's zero part."""
        return f"Pr({self.event(outcome)})"


LOGIT = Part("logit", "coef", "logit")
ZERO = Part("zero", "coef", "logit")
COUNT = Part("count", "count_coef", "log")
ORDINAL = Part("ordinal", "coef", "cumulative logit")
GROUP_PRIORS = ("group_sd", "year_sd")
HURDLE_QUANTITIES = ("Pr(y>0)", "E[y | y>0]", "E[y]")

FAMILIES: dict[str, Family] = {family.name: family for family in (
    Family("bernoulli", "logit", "binary", (LOGIT,), ("intercept", "slopes", *GROUP_PRIORS), ("Pr(y=1)",),
           ("effect_curves", "event_checks")),
    Family("hurdle_poisson", "hurdle Poisson", "count", (ZERO, COUNT),
           ("intercept", "slopes", *GROUP_PRIORS, "count_intercept", "count_slopes"), HURDLE_QUANTITIES,
           ("effect_curves", "event_checks", "count_part"), count="poisson"),
    Family("hurdle_negbinomial", "hurdle negative binomial", "count", (ZERO, COUNT),
           ("intercept", "slopes", *GROUP_PRIORS, "count_intercept", "count_slopes", "count_alpha"),
           HURDLE_QUANTITIES, ("effect_curves", "event_checks", "count_part"), count="negbin"),
    Family("cumulative", "ordinal logit", "ordinal", (ORDINAL,), ("slopes", *GROUP_PRIORS, "cutpoints"),
           ("E[category index]",), (), intercept=False, marginal=False),
)}


def get_family(name: str) -> Family:
    """The family called `name`; an unknown name raises FamilyError listing the known ones."""
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise FamilyError(f"unknown family {name!r}; use one of {', '.join(FAMILIES)}") from None
