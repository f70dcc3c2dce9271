"""The model families, as one table in the manner of Bambi's `BUILTIN_FAMILIES`.

Each family declares what its outcome is, the parts of its likelihood with their links, which prior groups it takes,
the quantities its effects are computed on, and which sections of the report apply to it. Every other module asks a
family for these (`get_family(name)`), so a new family is one entry here plus its builder, never a search for name
comparisons.

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
    """One part of a family's likelihood: its name, the posterior variable of its coefficients, and its link.

    Parameters
    ----------
    name : str
        The part's name as the frequentist fits and the paper's tables name it: "logit", "zero", "count" or
        "ordinal".
    variable : str
        The posterior variable of its coefficients on the covariates' original scale ("coef" or "count_coef").
    link : str
        Its link: "logit", "log" or "cumulative logit".
    """

    name: str
    variable: str
    link: str

    @property
    def term_dim(self) -> str:
        """The posterior dimension that names the part's coefficients (`coef_term`, `count_coef_term`)."""
        return f"{self.variable}_term"


@dataclass(frozen=True)
class Family:
    """One family of the model layer: its outcome, likelihood parts, priors, effect quantities and report sections.

    Parameters
    ----------
    name : str
        The family's name in specs (bernoulli, hurdle_poisson, hurdle_negbinomial, cumulative).
    label : str
        The family in words (e.g. "hurdle Poisson").
    likelihood : str
        The likelihood the builder writes (models.builders), in words.
    outcome : str
        What the outcome column holds: "binary", "count" or "ordinal".
    parts : tuple of Part
        The likelihood's parts, the first being the one with the group intercept (the logit, the hurdle's zero part
        or the ordinal logit).
    priors : tuple of str
        The prior groups it uses (e.g. "intercept", "slopes", "group_sd").
    quantities : tuple of str
        The predicted quantities of its effects (e.g. "Pr(y=1)"; an ordinal family adds one per category).
    sections : tuple of str
        The report sections that apply (of `SECTIONS`).
    count : str, optional
        A hurdle's count distribution, "poisson" or "negbin" (None for other families).
    intercept : bool, optional
        Whether the formula must have an intercept (default: True; an ordinal model's cut points take its place).
    marginal : bool, optional
        Whether the kernel can integrate the group intercept out (default: True; logit likelihoods only).

    Examples
    --------
    >>> from models.families import get_family
    >>> family = get_family("hurdle_poisson")
    >>> [part.name for part in family.parts], family.is_hurdle, family.has("count_part")
    (['zero', 'count'], True, True)
    """

    name: str
    label: str
    likelihood: str
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
        """Whether it is a hurdle family (a logit for any count and a zero-truncated count part)."""
        return self.count is not None

    @property
    def is_ordinal(self) -> bool:
        """Whether its outcome is ordinal."""
        return self.outcome == "ordinal"

    @property
    def is_binary(self) -> bool:
        """Whether its outcome is binary."""
        return self.outcome == "binary"

    def part(self, variable: str) -> Part:
        """Find the part whose coefficients are the posterior variable `variable`.

        Parameters
        ----------
        variable : str
            A posterior variable of coefficients: "coef" or "count_coef".

        Returns
        -------
        Part
            The part.

        Raises
        ------
        KeyError
            If no part of the family has coefficients `variable`.
        """
        for part in self.parts:
            if part.variable == variable:
                return part
        raise KeyError(f"family {self.name} has no part with coefficients {variable!r}")

    def has(self, section: str) -> bool:
        """Tell whether the report section `section` applies to this family.

        Parameters
        ----------
        section : str
            One of SECTIONS: "effect_curves", "event_checks" or "count_part".

        Returns
        -------
        bool
            Whether it applies.
        """
        return section in self.sections

    def event(self, outcome: str) -> str:
        """Name the event the main part predicts: the outcome, or `outcome > 0` for a hurdle's zero part.

        Parameters
        ----------
        outcome : str
            The outcome variable's name.

        Returns
        -------
        str
            The event in words.
        """
        return f"{outcome} > 0" if self.is_hurdle else outcome

    def event_label(self, outcome: str) -> str:
        """Name the main part's probability: Pr(outcome), or Pr(outcome > 0) for a hurdle's zero part.

        Parameters
        ----------
        outcome : str
            The outcome variable's name.

        Returns
        -------
        str
            The probability in words.
        """
        return f"Pr({self.event(outcome)})"


LOGIT = Part("logit", "coef", "logit")
ZERO = Part("zero", "coef", "logit")
COUNT = Part("count", "count_coef", "log")
ORDINAL = Part("ordinal", "coef", "cumulative logit")
GROUP_PRIORS = ("group_sd", "year_sd")
HURDLE_QUANTITIES = ("Pr(y>0)", "E[y | y>0]", "E[y]")

FAMILIES: dict[str, Family] = {family.name: family for family in (
    Family("bernoulli", label="logit", likelihood="Bernoulli with a logit link", outcome="binary", parts=(LOGIT,),
           priors=("intercept", "slopes", *GROUP_PRIORS), quantities=("Pr(y=1)",),
           sections=("effect_curves", "event_checks")),
    Family("hurdle_poisson", label="hurdle Poisson",
           likelihood="Bernoulli (logit) for any count, zero-truncated Poisson (log) for the positive counts",
           outcome="count", parts=(ZERO, COUNT),
           priors=("intercept", "slopes", *GROUP_PRIORS, "count_intercept", "count_slopes"),
           quantities=HURDLE_QUANTITIES, sections=("effect_curves", "event_checks", "count_part"), count="poisson"),
    Family("hurdle_negbinomial", label="hurdle negative binomial",
           likelihood="Bernoulli (logit) for any count, zero-truncated negative binomial (log, dispersion "
                      "count_alpha) for the positive counts",
           outcome="count", parts=(ZERO, COUNT),
           priors=("intercept", "slopes", *GROUP_PRIORS, "count_intercept", "count_slopes", "count_alpha"),
           quantities=HURDLE_QUANTITIES, sections=("effect_curves", "event_checks", "count_part"), count="negbin"),
    Family("cumulative", label="ordinal logit", likelihood="ordered logistic with ordered cut points",
           outcome="ordinal", parts=(ORDINAL,), priors=("slopes", *GROUP_PRIORS, "cutpoints"),
           quantities=("E[category index]",), sections=(), intercept=False, marginal=False),
)}


def get_family(name: str) -> Family:
    """Look up the family called `name`.

    Parameters
    ----------
    name : str
        The family's name: bernoulli, hurdle_poisson, hurdle_negbinomial or cumulative.

    Returns
    -------
    Family
        The family.

    Raises
    ------
    FamilyError
        If the name is unknown, listing the known ones.

    Examples
    --------
    >>> from models.families import get_family
    >>> get_family("bernoulli").label
    'logit'
    """
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        raise FamilyError(f"unknown family {name!r}; use one of {', '.join(FAMILIES)}") from None
