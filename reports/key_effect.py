"""The report's section on a model's key effect (the spec's `effect`, e.g. any DCA in force): its odds ratio and the
posterior probability that it lowers the outcome, predicted probabilities with it at its two values (for a typical
group and averaged over groups), and the same at each level of the variables it interacts with."""

from __future__ import annotations

import pandas as pd

from inference.effects import comparisons, odds_ratios, predictions
from models.design import ModelData

from . import html
from . import posterior_plots as plots


def moderators(data: ModelData) -> list[str]:
    """The variables the effect interacts with in the formula, in formula order."""
    effect = data.spec.effect
    found = [v for terms in data.spec.parsed.interactions if effect in terms for v in terms if v != effect]
    return list(dict.fromkeys(v for v in found if v in data.rows))


def _at_levels(table_of, moderator_names: list[str]) -> pd.DataFrame:
    """A table computed at typical values and then at each moderator's 0 and 1 (the others at typical values),
    with a column `at` naming the setting."""
    frames = [table_of(None).assign(at="typical values")]
    for name in moderator_names:
        for level in (0.0, 1.0):
            frames.append(table_of({name: [level]}).drop(columns=name).assign(at=f"{name} = {level:g}"))
    return pd.concat(frames, ignore_index=True)


def key_effect_tables(tree, data: ModelData) -> dict[str, pd.DataFrame]:
    """Odds ratios (with Pr(OR < 1)), predicted probabilities and their differences for the spec's effect."""
    effect, names = data.spec.effect, moderators(data)
    return {
        "odds_ratio": _at_levels(lambda by: odds_ratios(tree, data, effect, by=by), names),
        "predictions": _at_levels(lambda by: predictions(tree, data, at={effect: None, **(by or {})}), names),
        "difference": _at_levels(lambda by: comparisons(tree, data, effect, by=by), names),
    }


def key_effect_parts(name: str, tree, data: ModelData, figures: html.Figures, labels: dict[str, str] | None,
                     tables: dict[str, pd.DataFrame]) -> list[str]:
    """HTML of the key-effect section (for an ordinal model: the proportional odds ratio of a higher category and
    each category's probability); nothing for a spec without `effect`."""
    spec = data.spec
    if not spec.effect:
        return []
    found = key_effect_tables(tree, data)
    for key, table in found.items():
        tables[f"{name}_effect_{key}"] = table
    label = plots.variable_label(spec.effect, labels)
    typical = found["predictions"][found["predictions"]["at"] == "typical values"].drop(columns="at")
    if typical[spec.effect].isin([0.0, 1.0]).all():  # two values: points with HDI bars, not a line between them
        typical[spec.effect] = typical[spec.effect].map({0.0: "0", 1.0: "1"})
    figure = plots.plot_effects(typical, x=spec.effect, labels=labels)
    averaged = (f" 'Conditional' is for a {spec.group} whose own effect is zero; 'population' averages over the "
                f"distribution of {spec.group} effects." if spec.group else "")
    return [html.section(
        f"Effect of {label}", html.paragraph(
            f"The odds ratio of {label} (other covariates at typical values: means, the most common category) with "
            "its 94% HDI and the posterior probability that it is below 1 (the effect lowers the odds); then the "
            f"predicted probabilities with it at each value and their difference.{averaged} Where {label} "
            "interacts with other variables, each is also set to 0 and to 1."),
        html.table(found["odds_ratio"]),
        figures.add(f"{name}_effect_predictions", plots.png(figure),
                    f"{name}: predicted probabilities by {label} (94% HDI)"),
        html.table(found["predictions"]), html.table(found["difference"]), level=3)]
