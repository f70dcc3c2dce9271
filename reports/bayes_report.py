"""`coupproof report`: one self-contained HTML report of the saved Bayesian fits, with the figures as PNG and the
tables as CSV. Reads saved fits, the frequentist results and the panel; never refits.

An overview of the interactions, then sections per model: diagnostics banner, population parameters next to the
frequentist and the paper's estimates, the posterior probability of the interaction's sign, the marginal effect of
the interaction's focal variable (conditional and population-averaged, with the frequentist curve), predicted
probabilities, counts (hurdle models), trace, rank and energy plots, and posterior predictive checks for rare
events. Then model comparison by leave-one-group-out PSIS-LOO within each outcome, estimation sample and grouping,
with Pareto k shown, and the results of `coupproof sensitivity` when there are any. Any spec is reported: sections
that do not apply (no interaction, no group, method plain, the cumulative family) become one-line notes. Labels
come from the panel variables' long names.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd
import xarray as xr

from inference.diagnostics import NOT_FLAGGED, PARETO_K_MAX
from inference.effects import PosteriorDraws
from inference.fitting import loglik_name, population_names
from inference.frequentist import FitResult
from inference.record import FitRecord, PanelRef
from models.design import ModelData, model_data
from models.specs import ModelSpec, SpecError

from . import html
from . import posterior_plots as plots
from . import prior_defaults
from .calibration import calibration_section
from .frequentist import interaction_variables, marginal_effect_curve
from .formatting import HDI, number, with_interval, with_se
from .html import Figures
from .key_effect import key_effect_parts
from .posterior_effects import count_curves, marginal_effect_curves, predicted_probability_curves
from .posterior_tables import WEAKLY_IDENTIFIED, count_part_identification, interaction_probabilities, population_table
from .predictive import calibration_table, count_predictive, region_of, replicate_counts, row_probabilities
from .psis_loo import group_loo


class ReportError(ValueError):
    """Nothing to report (no readable fit), or inputs that cannot be used."""


@dataclass
class Report:
    """What the report is built from: the fits and their records by model name, the panel, our frequentist
    results, the warnings it must show, and the other stages' results where there are any (read by
    `coupproof.stages.report`; each is None when that stage has not run)."""

    fits: dict[str, xr.DataTree]
    records: dict[str, FitRecord]
    panel: xr.Dataset
    panel_path: str = ""
    freq: list[FitResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sensitivity: object = None
    prior_comparison: object = None
    robustness: object = None
    suite: object = None
    calibration: object = None
    title: str = "Bayesian report"
    ppc_draws: int = 200


@dataclass
class BuiltReport:
    """The report's page, its figures (PNG bytes by name) and its tables by name."""

    html: str
    figures: dict[str, bytes]
    tables: dict[str, pd.DataFrame]


def _freq_part(freq: list[FitResult], spec: ModelSpec) -> FitResult | None:
    """Our frequentist fit of the model's main part (the logit, a hurdle's zero part, the ordinal logit)."""
    part = spec.family_info.main.name
    return next((f for f in freq if f.model == spec.name and f.part == part), None)


def _skipped(title: str, reason: str) -> str:
    """A section that does not apply to this model: its title and a one-line note why."""
    return html.section(title, html.paragraph(f"Not shown: {reason}."), level=3)


def _event_label(spec: ModelSpec, labels: dict[str, str] | None) -> str:
    """What the logit part predicts: Pr(outcome) for bernoulli, Pr(outcome > 0) for the hurdle's zero part."""
    return spec.family_info.event_label(plots.variable_label(spec.outcome, labels))


def diagnostics_banner(record: FitRecord) -> list[str]:
    """A red banner when the fit failed its diagnostics (nothing otherwise)."""
    if record.diagnostics_passed:
        return []
    problems = "; ".join(record.diagnostics_problems)
    return [html.banner(f"FIT FAILED ITS DIAGNOSTICS: {problems}. Do not interpret it before refitting.", "fail")]


def population_parts(name: str, tree, spec: ModelSpec, report: Report, labels: dict[str, str] | None,
                     tables: dict[str, pd.DataFrame]) -> list[str]:
    """The population parameters next to the frequentist and paper estimates, and the interaction's sign."""
    population = population_table(tree, report.freq, labels=labels)
    signs = interaction_probabilities(tree, labels)
    tables[f"{name}_population"], tables[f"{name}_interaction_sign"] = population, signs
    ses = f"SEs clustered on {spec.group}" if spec.group else "robust SEs"
    parts = [html.section("Population parameters", html.paragraph(
        "Posterior mean, sd and 94% HDI on the covariates' original scale, with R-hat and ESS; 'freq' is our "
        f"frequentist fit with {ses}, 'paper' the published estimate of the models in the paper's reference tables."),
        html.table(population, hide=("model", "term")), level=3)]
    if signs.empty:
        reason = ("the formula has no two-way interaction" if spec.interaction is None else
                  f"the interaction {spec.interaction_term} is not one coefficient of the fit")
        parts.append(_skipped("Sign of the interaction", reason))
    else:
        parts.append(html.section("Sign of the interaction", html.table(signs, hide=("model", "term")), level=3))
    return parts


def _freq_curve(report: Report, name: str, data: ModelData, moderator: str) -> pd.DataFrame | None:
    """Our frequentist marginal-effect curve, when there is a frequentist fit of the same design."""
    fit = _freq_part(report.freq, data.spec)
    if fit is None or set(fit.terms) != set(data.X.columns):
        return None
    return marginal_effect_curve(fit, data, moderator)


def effect_parts(name: str, tree, data: ModelData, report: Report, figures: Figures,
                 labels: dict[str, str] | None, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Marginal effect of the focal variable and predicted probabilities across the moderator (and counts for
    hurdle models); a note instead where the model has no interaction of two numeric variables."""
    spec = data.spec
    found = interaction_variables(data)
    if isinstance(found, str):
        return [_skipped("Marginal effects", found)]
    focal, moderator = found
    draws = PosteriorDraws.from_tree(tree, data)
    effects = marginal_effect_curves(draws, data, moderator)
    probabilities = predicted_probability_curves(draws, data, moderator)
    tables[f"{name}_marginal_effects"], tables[f"{name}_predicted_probabilities"] = effects, probabilities
    outcome = _event_label(spec, labels)
    focal_label, moderator_label = plots.variable_label(focal, labels), plots.variable_label(moderator, labels)
    freq_curve = _freq_curve(report, name, data, moderator)
    averaged = (" 'Conditional' is for a group whose own effect is zero; 'population-averaged' averages over the "
                f"distribution of {spec.group} effects." if draws.group_sd is not None else "")
    dashed = " The dashed line is the frequentist curve." if freq_curve is not None else ""
    parts = [html.section(
        f"Marginal effect of {focal_label}", html.paragraph(
            f"The effect of {focal_label} on {outcome} across the observed range of {moderator_label}, other "
            f"covariates at typical values.{averaged}{dashed}"),
        figures.add(f"{name}_marginal_effects", plots.png(plots.plot_marginal_effects(
            effects, freq_curve, labels, outcome)), f"{name}: marginal effect of {focal_label} (94% HDI)"),
        figures.add(f"{name}_predicted", plots.png(plots.plot_predicted_probabilities(
            probabilities, ylabel=outcome, labels=labels)),
            f"{name}: {outcome} at {focal_label} 0, mean and mean + 1 sd"), level=3)]
    if draws.count_coef is not None:
        counts = count_curves(draws, data, moderator)
        tables[f"{name}_counts"] = counts
        label = plots.variable_label(spec.outcome, labels)
        parts.append(html.section(f"Counts: {label}", figures.add(
            f"{name}_counts", plots.png(plots.plot_counts(counts, labels)),
            f"{name}: Pr(any) and expected count of {label}"),
            *count_part_parts(name, tree, report.records[name], labels, tables), level=3))
    return parts


def count_part_parts(name: str, tree, record: FitRecord, labels: dict, tables: dict) -> list[str]:
    """What the hurdle's count part can and cannot tell: how many positive counts it rests on, and how much they
    narrowed each slope's prior."""
    identified = count_part_identification(tree, record.priors["count_slopes"])
    tables[f"{name}_count_identification"] = identified
    n_positive = record.n_events  # the hurdle's zero part: rows with any count
    weak = identified[identified["posterior_over_prior_iqr"] > WEAKLY_IDENTIFIED]
    shown = identified.assign(term=[plots.variable_label(t, labels) for t in identified["term"]])
    return [html.paragraph(
        f"The count part rests on the {n_positive} rows with a positive count (it has no group effects: few groups "
        "have more than one such row) and estimates one slope per term. It can tell the direction of a slope whose "
        "posterior is much narrower than its prior; it cannot tell the size, or even the sign, of one whose "
        f"posterior is about as wide as its prior: {len(weak)} of {len(identified)} slopes keep more than "
        f"{WEAKLY_IDENTIFIED:.0%} of their prior's spread (posterior over prior interquartile range), so their "
        "estimates there are mostly the prior's. The Pr(any) curve comes from the zero part over all rows and is "
        "much better identified."), html.table(shown)]


def sampling_parts(name: str, tree, spec: ModelSpec, figures: Figures) -> list[str]:
    """Divergences, traces of the interaction's terms and the group sd, rank and energy plots."""
    import arviz_plots as azp

    post = tree["posterior"]
    terms = [str(t) for t in post["coef_term"].values]
    shown = [t for t in (spec.interaction[0], spec.interaction_term) if t in terms] if spec.interaction else []
    group_sd = [spec.group_sd] if spec.group and spec.group_sd in post else []
    coords = {"coef_term": shown} if shown else {}
    population_vars = [v for v in population_names(spec) if v in post]
    divergences = int(tree["sample_stats"]["diverging"].sum()) if "diverging" in tree["sample_stats"] else 0
    traced = ", ".join([*(shown or ["the coefficients"]), *group_sd])
    return [html.section(
        "Sampling diagnostics", html.paragraph(f"{divergences} divergent transitions."),
        figures.add(f"{name}_trace", plots.png_arviz(azp.plot_trace_dist(
            tree, var_names=["coef", *group_sd], coords=coords, backend="matplotlib")), f"{name}: traces of {traced}"),
        figures.add(f"{name}_rank", plots.png_arviz(azp.plot_rank(tree, var_names=population_vars,
                                                                    backend="matplotlib")),
                    f"{name}: rank plots (uniform when chains mix)"),
        figures.add(f"{name}_energy", plots.png_arviz(azp.plot_energy(tree, backend="matplotlib")),
                    f"{name}: energy (marginal and transition distributions should overlap)"), level=3)]


def _event_checks(name: str, tree, data: ModelData, frame: pd.DataFrame, figures: Figures, ppc_draws: int,
                  labels: dict[str, str] | None, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Replicated events per decade and region of State A, and calibration, from the fit's kernel."""
    probs = row_probabilities(tree, data, draws=ppc_draws)
    rows = frame.loc[data.y.index]
    observed = (data.y.to_numpy() > 0).astype(float)
    by = {}
    if "year" in rows:
        by["per decade"] = by_decade = replicate_counts(
            probs, (rows["year"] // 10 * 10).astype(int).astype(str) + "s", observed)
        tables[f"{name}_ppc_decade"] = by_decade
    state = next((code for code in ("ccode_a", "ccode") if code in rows), None)  # State A, or the country
    if state is not None:
        by[f"per region{' of State A' if state == 'ccode_a' else ''}"] = by_region = replicate_counts(
            probs, region_of(rows[state]), observed)
        tables[f"{name}_ppc_region"] = by_region
    calibration = calibration_table(probs, observed)
    tables[f"{name}_calibration"] = calibration
    outcome = plots.variable_label(data.spec.outcome, labels)
    events = data.spec.family_info.event(outcome)
    checks = [html.paragraph(f"Observed events ({events}) against {len(probs)} replicated data sets (each row's "
                             f"{data.spec.group} effect drawn from its posterior given the data).")]
    if by:
        per = " and ".join(key.removeprefix("per ") for key in by)
        figure = plots.plot_replicated_counts(by, f"{name}: events", ylabel=f"Events: {events}")
        checks.append(figures.add(f"{name}_ppc_counts", plots.png(figure),
                                  f"{name}: observed and replicated events per {per} (94% interval)"))
    checks += [figures.add(f"{name}_calibration", plots.png(plots.plot_calibration({name: calibration})),
                           f"{name}: calibration by decile of predicted probability"), html.table(calibration, 6)]
    return checks


def predictive_parts(name: str, tree, record: FitRecord, data: ModelData, frame: pd.DataFrame, figures: Figures,
                     ppc_draws: int, labels: dict[str, str] | None, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Posterior predictive checks: events (marginal fits of logit likelihoods) and, for hurdles, a rootogram of
    the counts; a one-line note for what does not apply."""
    import arviz_plots as azp

    spec = data.spec
    title = "Posterior predictive checks"
    if not spec.family_info.has("event_checks"):
        return [_skipped(title, f"the checks of events are for binary and hurdle outcomes, not the {spec.family} "
                                "family")]
    method = record.method
    if method == "marginal":
        checks = _event_checks(name, tree, data, frame, figures, ppc_draws, labels, tables)
    else:
        checks = [html.paragraph(f"Checks of events not shown: they need the marginal kernel, and this fit used "
                                 f"method {method}.")]
    if "count_coef" in tree["posterior"]:
        label = plots.variable_label(spec.outcome, labels)
        rootogram = azp.plot_ppc_rootogram(count_predictive(tree, data), backend="matplotlib")
        checks.append(figures.add(f"{name}_rootogram", plots.png_arviz(rootogram),
                                  f"{name}: rootogram of {label} among rows with any"))
    return [html.section(title, *checks, level=3)]


def model_section(name: str, tree, data: ModelData, frame: pd.DataFrame, report: Report, figures: Figures,
                  labels: dict[str, str] | None = None) -> tuple[str, dict[str, pd.DataFrame]]:
    """The HTML of one model and the tables it made; sections that do not apply to the model (no interaction,
    no group, method plain, ordinal family) become one-line notes."""
    record, tables = report.records[name], {}
    spec = record.spec
    parts = diagnostics_banner(record)
    prior_set = f" (prior set {record.prior_set})" if record.prior_set else ""
    parts.append(html.section("Priors", html.paragraph(f"The priors of this fit{prior_set}, as recorded with it:"),
                              html.bullets(record.describe_priors()), level=3))
    parts += population_parts(name, tree, spec, report, labels, tables)
    parts += key_effect_parts(name, tree, data, figures, labels, tables)
    parts += effect_parts(name, tree, data, report, figures, labels, tables)
    parts += sampling_parts(name, tree, spec, figures)
    parts += predictive_parts(name, tree, record, data, frame, figures, report.ppc_draws, labels, tables)
    title = f"{spec.label or name} ({name})" + (f": {spec.description}" if spec.description else "")
    return html.section(title, *parts, anchor=name), tables


def overview_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per model with an interaction: the interaction of the logit, zero or ordinal part, posterior
    against frequentist and paper."""
    rows = []
    for key, signs in tables.items():
        if not key.endswith("_interaction_sign") or signs.empty:
            continue
        model = key.removesuffix("_interaction_sign")
        first = signs.iloc[0]
        population = tables[f"{model}_population"]
        row = population[(population["part"] == first["part"]) & (population["term"] == first["term"])].iloc[0]
        rows.append({"model": model, "interaction": first["term"], "label": first["label"], "mean": row["mean"],
                     "sd": row["sd"], "hdi_lower": row["hdi_lower"], "hdi_upper": row["hdi_upper"],
                     "pr_negative": first["pr_negative"], "freq": row["freq"], "freq_se": row["freq_se"],
                     "paper": row["paper"], "paper_se": row["paper_se"]})
    return pd.DataFrame(rows)


def _loo(tree, spec: ModelSpec):
    """PSIS-LOO of one fit, leaving one group out (its per-group log-likelihood): ArviZ's ELPDData, computed over
    all groups at once (`reports.psis_loo`; arviz-stats' loop over groups took minutes on the dyad fits)."""
    return group_loo(tree, loglik_name(spec))


def _loo_row(name: str, loo, spec: ModelSpec) -> dict:
    """One fit's PSIS-LOO summary with its Pareto k."""
    threshold = float(loo.good_k) if getattr(loo, "good_k", None) is not None else PARETO_K_MAX
    k = loo.pareto_k.values
    return {"model": name, "grouping": spec.group, "elpd_loo": loo.elpd, "se": loo.se, "p_loo": loo.p,
            "groups": k.size, "k_above_threshold": int((k > threshold).sum()), "k_threshold": threshold,
            "k_max": float(k.max())}


def _has_loglik(tree, spec: ModelSpec) -> bool:
    return (spec.group is not None and "log_likelihood" in tree.children
            and loglik_name(spec) in tree["log_likelihood"].data_vars)


def comparison_section(report: Report, figures: Figures) -> tuple[str, pd.DataFrame]:
    """PSIS-LOO (leave one group out) per model, and comparisons among models with the same outcome, sample and
    grouping (only those leave out the same units)."""
    import arviz_stats as azs

    rows, parts, loos = [], [], {}
    groups: dict[tuple[str, str, str], list[str]] = {}
    for name, tree in report.fits.items():
        spec = report.records[name].spec
        if not _has_loglik(tree, spec):
            continue
        loos[name] = _loo(tree, spec)  # computed once: the comparisons reuse it
        rows.append(_loo_row(name, loos[name], spec))
        groups.setdefault((spec.outcome, spec.sample, spec.group), []).append(name)
    table = pd.DataFrame(rows)
    if table.empty:
        return html.section("Model comparison", html.paragraph(
            "No fit has a per-group log-likelihood (those of method marginal with a group intercept do).")), table
    bad = table[table["k_above_threshold"] > 0]
    if not bad.empty:
        parts.append(html.banner("Pareto k above the threshold (the PSIS estimate of those groups' contribution is "
                                 "unreliable): " + ", ".join(f"{r.model}: {r.k_above_threshold} {r.grouping}(s), "
                                                              f"max k {r.k_max:.2f}" for r in bad.itertuples())))
    parts.append(html.table(table))
    for (outcome, sample, grouping), names in groups.items():
        if len(names) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compared = azs.compare({n: loos[n] for n in names})
            import arviz_plots as azp

            label = "_".join(names)
            parts.append(html.paragraph(f"{', '.join(names)} ({outcome}, sample {sample or 'complete rows'}); "
                                        f"leave one {grouping} out:"))
            parts.append(html.table(compared.reset_index().rename(columns={"index": "model"})))
            parts.append(figures.add(f"compare_{label}", plots.png_arviz(azp.plot_compare(compared,
                                                                                           backend="matplotlib")),
                                     f"ELPD of {', '.join(names)} with standard errors"))
    groupings = list(dict.fromkeys(table["grouping"]))
    title = (f"Model comparison by leave-one-{groupings[0]}-out PSIS-LOO" if len(groupings) == 1 else
             f"Model comparison by leave-one-group-out PSIS-LOO ({', '.join(groupings)})")
    return html.section(title, html.paragraph(
        "Models are compared only with models of the same outcome, estimation sample and grouping."), *parts), table


def sensitivity_section(result, comparison, models: list[str]) -> str | None:
    """The saved results of the sensitivity stage (`coupproof.stages.SensitivityResult`) and the prior comparison
    (`PriorComparisonResult`) for `models`, read and not recomputed; None when there are none."""
    table = pd.DataFrame(columns=["model", "diagnosis"])
    sets = {}
    if result is not None:
        if result.power_scaling is not None:
            table = result.power_scaling[result.power_scaling["model"].isin(models)]
        sets = {m: refits for m, refits in result.prior_sets.items() if m in models}
    if table.empty and not sets and comparison is None:
        return None
    parts = [html.paragraph(
        "Power-scaling (Kallioinen et al. 2023): how much each posterior moves when the prior or the likelihood is "
        "raised to a power near 1. Sensitivity to both suggests prior-data conflict; to the prior alone, a weak "
        "likelihood. Then refits under alternative prior sets.")]
    if not table.empty:
        flagged = table[table["diagnosis"] != NOT_FLAGGED]
        if not flagged.empty:
            listed = "; ".join(f"{model}: {', '.join(f'{r.parameter} ({r.diagnosis})' for r in rows.itertuples())}"
                               for model, rows in flagged.groupby("model", sort=False))
            parts.append(html.banner(f"{len(flagged)} of {len(table)} parameters flagged by power-scaling: {listed}"))
        parts.append(html.table(table))
    if comparison is not None:
        parts.append(html.section(
            "The default priors against the regularising and wide sets", html.paragraph(prior_defaults.RULE),
            html.table(comparison.table),
            html.figure(comparison.figure, "Each interaction by prior set, in frequentist SEs from its mean under "
                        "the wide set") if comparison.figure is not None else "", level=3))
    captions = {"forest": "the interaction under each prior set",
                "effects": "marginal effect of the focal variable by prior set",
                "power_scaling": "the interaction with prior and likelihood power-scaled"}
    for model, refits in sets.items():
        parts.append(html.section(f"{model} under alternative prior sets", html.table(refits.table), *[
            html.figure(refits.figures[key], f"{model}: {caption}") for key, caption in captions.items()
            if key in refits.figures], level=3))
    return html.section("Prior sensitivity", *parts, anchor="sensitivity")


def model_bodies(report: Report, frame: pd.DataFrame, figures: Figures, labels: dict[str, str]
                 ) -> tuple[list[str], dict[str, pd.DataFrame]]:
    """Each model's section and tables; a model whose data this panel cannot give is left out with a warning."""
    bodies, tables = [], {}
    for name, tree in report.fits.items():
        spec = report.records[name].spec
        try:
            data = model_data(frame, spec)
        except SpecError as exc:
            report.warnings.append(f"{name}: cannot rebuild its data from this panel ({exc}); the model is left "
                                   "out of this report")
            continue
        body, model_tables = model_section(name, tree, data, frame, report, figures, labels)
        bodies.append(body)
        tables.update(model_tables)
    return bodies, tables


def robustness_section(result, suite=None) -> str | None:
    """The saved results of the robustness stage (`coupproof.stages.RobustnessResult`, read, not recomputed): the
    key interactions across variants, the forest plot, each variant's reading of the paper (from its `suite`,
    models.robustness.Suite) and its table; None when there are none."""
    if result is None:
        return None
    findings = result.findings
    parts = [html.paragraph(
        "The paper's robustness checks (section 5 and its appendix), each a variant of the main models built as "
        "formulas and panel options. 'As in main table' compares the key interaction's sign and significance with "
        "what the main tables found (the 'main table' column); the Bayesian verdict asks the same of the 94% HDI.")]
    failed = findings.get("bayes_diagnostics_passed", pd.Series(dtype=object)).eq(False)
    if failed.any():
        parts.append(html.banner("Bayesian fits that failed their diagnostics (do not interpret them): "
                                 + ", ".join(findings.loc[failed, "model"]), "fail"))
    parts.append(html.table(findings))
    if result.forest is not None:
        parts.append(html.figure(result.forest,
                                 "Key interactions across variants: frequentist and Bayesian side by side"))
    variants = suite.variants if suite is not None else {}
    for name, table in result.tables.items():
        reading = variants[name].reading if name in variants else "the main models"
        parts.append(html.section(variants[name].label if name in variants else "Main models",
                                  html.paragraph(reading), html.table(table.reset_index()), level=3))
    return html.section("Robustness checks", *parts, anchor="robustness")


def _direction(row) -> str:
    """What the posterior says of an interaction's sign, in words, from its HDI and Pr(< 0)."""
    if row["hdi_upper"] < 0:
        return f"negative (its {HDI} lies below zero)"
    if row["hdi_lower"] > 0:
        return f"positive (its {HDI} lies above zero)"
    return f"of uncertain sign (its {HDI} includes zero; Pr(< 0) = {number(row['pr_negative'])})"


def headline(report: Report, overview: pd.DataFrame) -> str:
    """The page's headline, generated from the results: what each model's posterior says of its interaction,
    against the frequentist and the paper's estimates; how many fits failed their diagnostics gate; how many of
    the robustness variants' key interactions are as in the main tables."""
    sentences = []
    failed = [name for name, record in report.records.items() if not record.diagnostics_passed]
    if failed:
        sentences.append(f"{len(failed)} of {len(report.records)} fits failed their diagnostics gate "
                         f"({', '.join(failed)}): their estimates are not to be interpreted before refitting.")
    for row in overview.to_dict("records"):
        text = (f"{row['model']}: the interaction {row['label']} is {_direction(row)}, posterior mean "
                f"{with_interval(row['mean'], row['hdi_lower'], row['hdi_upper'])}")
        others = [f"{who} {with_se(row[est], row[se])}" for who, est, se in (("ours by maximum likelihood", "freq",
                  "freq_se"), ("the paper's", "paper", "paper_se")) if pd.notna(row.get(est))]
        sentences.append(text + (f"; {' and '.join(others)}" if others else "") + ".")
    if not len(overview):
        sentences.append("No model has a two-way interaction to summarise.")
    findings = report.robustness.findings if report.robustness is not None else None
    if findings is not None and "as_in_main_table" in findings:
        verdicts = findings["as_in_main_table"].fillna("").astype(str)
        shown = verdicts[verdicts != ""]
        same = int(shown.str.startswith("yes").sum())
        sentences.append(f"Robustness: in {same} of {len(shown)} variant models the frequentist key interaction has "
                         "the main tables' sign and significance (see 'Robustness checks').")
    return html.section("What the posterior says", html.paragraph(" ".join(sentences)), anchor="headline")


def build_report(report: Report) -> BuiltReport:
    """The report's page, figures and tables from what `report` holds (nothing is refitted)."""
    from data_prep.panel import panel_to_frame

    ds = report.panel
    frame = panel_to_frame(ds)
    labels = plots.panel_labels(ds)
    figures = Figures()
    bodies, tables = model_bodies(report, frame, figures, labels)
    panel = PanelRef.of(ds, report.panel_path)
    sections = [html.paragraph(f"Bayesian fits of the models below with their group random intercepts. "
                               f"{ds.attrs.get('title', 'Panel')}: {panel.path} (checksum {panel.checksum[:12]}). "
                               f"Substitutes: {panel.substitutes or 'none recorded'}")]
    sections += [html.banner(w) for w in report.warnings]
    tables["overview"] = overview_table(tables)
    sections.append(headline(report, tables["overview"]))
    sections.append(html.section("Overview: the interactions", html.paragraph(
        "Each model's interaction (logit, zero or ordinal part): posterior mean, sd and 94% HDI, the posterior "
        "probability that it is negative, our frequentist estimate (clustered SE) and the paper's."),
        html.table(tables["overview"], hide=("interaction",))))
    sections += bodies
    comparison, loo_table = comparison_section(report, figures)
    sections.append(comparison)
    sections.append(sensitivity_section(report.sensitivity, report.prior_comparison, list(report.fits))
                    or html.paragraph("No prior-sensitivity results yet: run 'make sensitivity'."))
    sections.append(robustness_section(report.robustness, report.suite)
                    or html.paragraph("No robustness results yet: run 'make robustness'."))
    sections.append(calibration_section(report.calibration)
                    or html.paragraph("No calibration results yet: run 'make validate'."))
    tables["loo"] = loo_table
    return BuiltReport(html.page(report.title, sections), dict(figures), tables)
