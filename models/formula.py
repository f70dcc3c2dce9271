"""Model formulas in the brms / Bambi convention, parsed by `formulae` (the parser Bambi uses).

`new_defense_pact ~ counterbalancing_a * threat_b + threat_a + (1 | dyad) + (1 | year)` reads as: a response, common
terms (any interactions, `C(var)` dummies, transforms such as `np.log1p(x)` or `I(x**2)`), one group intercept that
the kernel integrates out (`(1 | dyad)`, `(1 | state_a)`, any column, lme4's compound `(1 | ccode1:ccode2)` or the
undirected `(1 | pair(ccode1, ccode2))`), further groupings whose intercepts are sampled and enter the kernel as
offsets (`(1 | dyad) + (1 | state_a) + (1 | state_b)`: sender and receiver effects), with group-specific slopes
of numeric variables where they are sampled (`(threat_b | state_a)`: State A's intercept and slope on threat_b,
correlated, as in lme4) and, optionally, partially pooled year intercepts `(1 | year)`. What the model layer cannot
take (slopes on the integrated grouping or the years, a slope without its intercept, a slope on anything but a
variable) is refused here or when the data are read, naming the term.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

YEAR = "year"  # the grouping whose intercepts are partially pooled rather than integrated out


class FormulaError(ValueError):
    """A formula that cannot be parsed or asks for a term the model layer cannot fit."""


class _Numpy:
    """numpy as formulas see it (`np.log1p`, ...): a stand-in that pickles by name, so that a model's design
    travels to Dask workers (a module cannot be pickled)."""

    def __getattr__(self, name: str):
        return getattr(np, name)

    def __reduce__(self):
        return (_Numpy, ())


def _environment():
    """What formula calls may name: numpy as np (np.log1p, np.sqrt, ...)."""
    from formulae.environment import Environment

    return Environment([{"np": _Numpy()}])


PAIR = re.compile(r"^pair\(\s*(\w+)\s*,\s*(\w+)\s*\)$")


def _grouping(factor, where: str, label: str) -> tuple[str, tuple[str, ...], bool]:
    """A group term's grouping: its name (a column, `a_b` for lme4's compound `a:b`, `pair_a_b` for the undirected
    `pair(a, b)`), the columns it is made of and whether their order is ignored."""
    kinds = [type(c).__name__ for c in factor.components]
    if kinds == ["Variable"]:
        return factor.name, (factor.name,), False
    if kinds and all(k == "Variable" for k in kinds):  # lme4's a:b, one group per combination of values
        columns = tuple(c.name for c in factor.components)
        return "_".join(columns), columns, False
    match = PAIR.match(factor.name.strip()) if kinds == ["Call"] else None
    if match and match.group(1) != match.group(2):  # an undirected pair, e.g. pair(ccode1, ccode2)
        return f"pair_{match.group(1)}_{match.group(2)}", (match.group(1), match.group(2)), True
    raise FormulaError(f"{where}: {label}: a grouping is a column, columns joined by ':' (one group per combination, "
                       "e.g. (1 | ccode1:ccode2) for directed dyads) or pair(a, b) (the two columns in either order, "
                       "e.g. (1 | pair(ccode1, ccode2)) for undirected dyads)")


@dataclass(frozen=True)
class Grouping:
    """One group intercept's grouping: its name, the columns it is made of, whether their order is ignored."""

    name: str
    columns: tuple[str, ...]
    undirected: bool = False
    slopes: tuple[str, ...] = ()  # numeric variables with group-specific slopes (sampled groupings only)


@dataclass(frozen=True)
class Formula:
    """A parsed formula: response, common terms, the integrated-out grouping (or None; the first listed unless
    `integrating` names another), the groupings whose intercepts are sampled, and whether years are pooled. `text`
    is what the user wrote."""

    text: str
    response: str
    terms: tuple[str, ...]  # common terms as formulae names them (without the intercept)
    intercept: bool
    group: str | None
    year_effects: bool
    variables: tuple[str, ...]  # panel variables the common terms read (the response and grouping excluded)
    categorical: tuple[str, ...] = ()  # variables read as categories, C(var)
    group_columns: tuple[str, ...] = ()  # the columns the grouping is made of: (x,), (a, b) for a:b or pair(a, b)
    undirected: bool = False  # pair(a, b): the pair of values in either order is one group
    groupings: tuple[Grouping, ...] = ()  # every group intercept's grouping but the year's, as written

    @property
    def sampled(self) -> tuple[Grouping, ...]:
        """The groupings other than the integrated one: their intercepts are sampled (non-centred, or partially
        centred by their information: models.builders) and enter the kernel as offsets."""
        return tuple(g for g in self.groupings if g.name != self.group)

    def integrating(self, name: str) -> "Formula":
        """The formula with `name` as the grouping the kernel integrates out; FormulaError if it has none so named."""
        found = [g for g in self.groupings if g.name == name]
        if not found:
            raise FormulaError(f"integrate: the formula has no grouping {name!r} (its groupings: "
                               f"{', '.join(g.name for g in self.groupings) or 'none'})")
        if found[0].slopes:
            raise FormulaError(f"integrate: the grouping {name} has group-specific slopes "
                               f"({', '.join(found[0].slopes)}), which only a sampled grouping can have; the kernel "
                               "integrates out one grouping's intercepts")
        return replace(self, group=name, group_columns=found[0].columns, undirected=found[0].undirected)

    @classmethod
    def parse(cls, text: str, where: str = "formula") -> "Formula":
        """Parse and classify `text`; a syntax error or an unsupported term raises FormulaError naming it."""
        from formulae import model_description

        if not isinstance(text, str) or "~" not in text:
            raise FormulaError(f"{where}: a formula is 'outcome ~ terms', got {text!r}")
        try:
            description = model_description(text)
        except Exception as exc:  # noqa: BLE001 - formulae raises several types for bad syntax
            raise FormulaError(f"{where}: cannot parse {text!r} ({type(exc).__name__}: {exc})") from None
        if description.response is None:
            raise FormulaError(f"{where}: {text!r} has no outcome on the left of '~'")
        response = description.response.term.name
        intercept, terms, variables, categorical = False, [], [], []
        for term in description.common_terms:
            if type(term).__name__ == "Intercept":
                intercept = True
                continue
            terms.append(term.name)
            variables += sorted(v for v in term.var_names if v)
            categorical += [v for c in term.components if type(c).__name__ == "Call" and c.name.startswith("C(")
                            for v in sorted(c.var_names) if v]
        groupings, year_effects, slopes = [], False, {}
        for term in description.group_terms:
            slope = type(term.expr).__name__ != "Intercept"
            label = f"({term.expr.name if slope else 1} | {term.factor.name})"
            factor, columns, pair = _grouping(term.factor, where, label)
            if slope:
                names = [v for v in term.expr.var_names if v]
                if len(names) != 1 or term.expr.name != names[0]:
                    raise FormulaError(f"{where}: {label}: a group-specific slope must be on one variable as it is "
                                       "(make a transform or an interaction a column of the data first)")
                if factor == YEAR:
                    raise FormulaError(f"{where}: {label}: year intercepts take no slopes")
                slopes.setdefault(factor, []).append(names[0])
                variables.append(names[0])
            elif factor == YEAR:
                year_effects = True
            elif any(g.name == factor for g in groupings):
                raise FormulaError(f"{where}: {label}: the grouping {factor} is listed twice")
            else:
                groupings.append(Grouping(factor, columns, pair))
        for factor, names in slopes.items():
            found = [i for i, g in enumerate(groupings) if g.name == factor]
            if not found:
                raise FormulaError(f"{where}: ({' + '.join(names)} | {factor}): group-specific slopes need the "
                                   f"group's intercept too; write ({' + '.join(names)} | {factor})")
            groupings[found[0]] = replace(groupings[found[0]], slopes=tuple(dict.fromkeys(names)))
        plain = [g for g in groupings if not g.slopes]
        if groupings and groupings[0].slopes:  # the kernel integrates a grouping without slopes out
            if not plain:
                raise FormulaError(f"{where}: the grouping {groupings[0].name} has group-specific slopes, which "
                                   "only a sampled grouping can have: the kernel integrates one grouping's "
                                   "intercepts out, so add a grouping without slopes, e.g. (1 | dyad)")
            groupings.remove(plain[0])
            groupings.insert(0, plain[0])
        first = groupings[0] if groupings else Grouping("", ())
        return cls(text, response, tuple(terms), intercept, first.name or None, year_effects,
                   tuple(dict.fromkeys(variables)), tuple(dict.fromkeys(categorical)), first.columns,
                   first.undirected, tuple(groupings))

    @property
    def common(self) -> str:
        """The fixed-effects formula (group terms removed), as formulae builds its design matrix."""
        return f"{self.response} ~ {' + '.join(('1' if self.intercept else '0', *self.terms))}"

    @cached_property
    def interactions(self) -> tuple[tuple[str, ...], ...]:
        """The terms that multiply two or more variables, each as its variable names in order."""
        return tuple(tuple(term.split(":")) for term in self.terms if ":" in term)


def design_matrix(formula: str, frame: pd.DataFrame, where: str):
    """formulae's common design of `formula` on `frame` (rows with missing values must be removed before); the
    returned object also evaluates new rows (`evaluate_new_data`) with the same columns and category levels."""
    from formulae import design_matrices

    try:
        return design_matrices(formula, frame, na_action="error", env=_environment()).common
    except Exception as exc:  # noqa: BLE001 - transforms fail with any type
        raise FormulaError(f"{where}: cannot build the design of {formula!r} ({type(exc).__name__}: {exc})") from None


def design_frame(common, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The design as a float frame with formulae's column names (new rows evaluated when `frame` is given)."""
    matrix = common if frame is None else common.evaluate_new_data(frame)
    design = matrix.as_dataframe().astype(float)
    if frame is not None:
        design.index = frame.index
    return design
