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

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data_prep.io import atomic_write_text
from data_prep.panel import panel_to_frame, read_panel
from inference.effects import PosteriorDraws
from inference.fitting import loglik_name, population_names
from inference.frequentist import FitResult, load_results
from inference.store import FitFileError, fit_spec, load_fit
from models.design import ModelData, model_data
from models.specs import PAPER_MODELS, ModelSpec, SpecError

from . import html
from . import posterior_plots as plots
from . import prior_defaults
from .calibration import calibration_section
from .frequentist import interaction_variables, marginal_effect_curve
from .key_effect import key_effect_parts
from .posterior_effects import concession_curves, marginal_effect_curves, predicted_probability_curves
from .posterior_tables import count_part_identification, interaction_probabilities, population_table
from .predictive import calibration_table, count_predictive, region_of, replicate_counts, row_probabilities


class ReportError(ValueError):
    """Nothing to report (no readable fit), or inputs that cannot be used."""


@dataclass
class Report:
    """What the report is built from, and the warnings it must show."""

    fits: dict[str, object] = field(default_factory=dict)
    specs: dict[str, ModelSpec] = field(default_factory=dict)
    freq: list[FitResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def fit_path(fits_dir: Path, name: str, spec: ModelSpec | None) -> Path:
    """The saved fit of a model: `<name>_<method>.nc`, the spec's method first (marginal where it applies); the
    marginal path when there is none."""
    methods = ("marginal", "plain") if spec is None or spec.fit_method == "marginal" else ("plain", "marginal")
    paths = [Path(fits_dir) / f"{name}_{method}.nc" for method in methods]
    return next((path for path in paths if path.exists()), Path(fits_dir) / f"{name}_marginal.nc")


def gather(fits_dir: Path, panel_checksum: str, freq_path: Path | None, models: list[str],
           specs: dict[str, ModelSpec] = PAPER_MODELS) -> Report:
    """Load what exists; a fit not yet made, missing frequentist results or a checksum that differs from the
    panel's becomes a visible warning. A damaged fit file, or no fit at all, is an error."""
    report = Report()
    for name in models:
        path = fit_path(fits_dir, name, specs.get(name))
        if not path.exists():
            report.warnings.append(f"{name}: {path}: fit file not found; the model is left out of this report")
            continue
        try:
            tree = load_fit(path)
        except FitFileError as exc:
            raise ReportError(str(exc)) from None
        if tree.attrs.get("panel_checksum") != panel_checksum:
            report.warnings.append(f"{name}: the fit was made from a different panel (checksum "
                                   f"{str(tree.attrs.get('panel_checksum'))[:12]} against the panel's "
                                   f"{panel_checksum[:12]}); refit it with 'make fit'")
        report.fits[name] = tree
        report.specs[name] = fit_spec(tree)
    if not report.fits:
        raise ReportError(f"no readable fit in {fits_dir} for {', '.join(models)}; run 'coupproof fit' first")
    if freq_path is None or not Path(freq_path).is_file():
        report.warnings.append(f"frequentist results not found ({freq_path}); run 'make freq' to compare")
    else:
        try:
            report.freq, metadata = load_results(freq_path)
        except ValueError as exc:
            raise ReportError(str(exc)) from None
        if metadata.get("panel_checksum") != panel_checksum:
            report.warnings.append("the frequentist results were made from a different panel; rerun 'make freq'")
    return report


def _freq_part(freq: list[FitResult], model: str, family: str) -> FitResult | None:
    """Our frequentist fit of the model's logit (bernoulli) or zero part (hurdles); None for other families."""
    part = {"bernoulli": "logit", "hurdle_poisson": "zero", "hurdle_negbinomial": "zero"}.get(family)
    return next((f for f in freq if f.model == model and f.part == part), None)


def _skipped(title: str, reason: str) -> str:
    """A section that does not apply to this model: its title and a one-line note why."""
    return html.section(title, html.paragraph(f"Not shown: {reason}."), level=3)


def _event_label(spec: ModelSpec, labels: dict[str, str] | None) -> str:
    """What the logit part predicts: Pr(outcome) for bernoulli, Pr(outcome > 0) for the hurdle's zero part."""
    outcome = plots.variable_label(spec.outcome, labels)
    return f"Pr({outcome})" if spec.family == "bernoulli" else f"Pr({outcome} > 0)"


def diagnostics_banner(tree) -> list[str]:
    """A red banner when the fit failed its diagnostics (nothing otherwise)."""
    if int(tree.attrs.get("diagnostics_passed", 1)):
        return []
    problems = "; ".join(json.loads(tree.attrs.get("diagnostics_problems", "[]")))
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
        f"frequentist fit with {ses}, 'paper' is McWard & Yoon (2023) for their models."), html.table(population), level=3)]
    if signs.empty:
        reason = ("the formula has no two-way interaction" if spec.interaction is None else
                  f"the interaction {spec.interaction_term} is not one coefficient of the fit")
        parts.append(_skipped("Sign of the interaction", reason))
    else:
        parts.append(html.section("Sign of the interaction", html.table(signs), level=3))
    return parts


def _freq_curve(report: Report, name: str, data: ModelData, moderator: str) -> pd.DataFrame | None:
    """Our frequentist marginal-effect curve, when there is a frequentist fit of the same design."""
    fit = _freq_part(report.freq, name, data.spec.family)
    if fit is None or set(fit.terms) != set(data.X.columns):
        return None
    return marginal_effect_curve(fit, data, moderator)


def effect_parts(name: str, tree, data: ModelData, report: Report, figures: Path, labels: dict[str, str] | None,
                 tables: dict[str, pd.DataFrame]) -> list[str]:
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
        html.figure(plots.save(plots.plot_marginal_effects(effects, freq_curve, labels, outcome),
                               figures / f"{name}_marginal_effects.png"),
                    f"{name}: marginal effect of {focal_label} (94% HDI)"),
        html.figure(plots.save(plots.plot_predicted_probabilities(probabilities, ylabel=outcome, labels=labels),
                               figures / f"{name}_predicted.png"),
                    f"{name}: {outcome} at {focal_label} 0, mean and mean + 1 sd"), level=3)]
    if draws.count_coef is not None:
        counts = concession_curves(draws, data, moderator)
        tables[f"{name}_concessions"] = counts
        label = plots.variable_label(spec.outcome, labels)
        parts.append(html.section(f"Counts: {label}", html.figure(
            plots.save(plots.plot_concessions(counts, labels), figures / f"{name}_concessions.png"),
            f"{name}: Pr(any) and expected count of {label}"), *count_part_parts(name, tree, labels, tables),
            level=3))
    return parts


def count_part_parts(name: str, tree, labels: dict, tables: dict) -> list[str]:
    """What the hurdle's count part can and cannot tell: how many positive counts it rests on, and how much they
    narrowed each slope's prior."""
    identified = count_part_identification(tree)
    tables[f"{name}_count_identification"] = identified
    n_positive = int(tree.attrs["n_events"])  # the hurdle's zero part: rows with any count
    weak = identified[identified["posterior_over_prior_iqr"] > 0.5]
    shown = identified.assign(term=[plots.variable_label(t, labels) for t in identified["term"]])
    return [html.paragraph(
        f"The count part rests on {n_positive} positive counts (pacts with at least one concession: dyads almost "
        "never form two, so it has no dyad effects) and estimates one slope per term. It can tell the direction of a slope whose "
        "posterior is much narrower than its prior; it cannot tell the size, or even the sign, of one whose "
        f"posterior is about as wide as its prior: {len(weak)} of {len(identified)} slopes keep more than half "
        "of their prior's spread (posterior over prior interquartile range above 0.5), so their estimates there "
        "are mostly the prior's. The Pr(any) curve comes from the logit part over all dyad-years and is much "
        "better identified."), html.table(shown.rename(columns={
            "posterior_over_prior_iqr": "posterior / prior IQR", "pr_positive": "Pr(slope > 0)"}))]


def sampling_parts(name: str, tree, spec: ModelSpec, figures: Path) -> list[str]:
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
        html.figure(plots.save_arviz(azp.plot_trace_dist(tree, var_names=["coef", *group_sd], coords=coords,
                                                         backend="matplotlib"), figures / f"{name}_trace.png"),
                    f"{name}: traces of {traced}"),
        html.figure(plots.save_arviz(azp.plot_rank(tree, var_names=population_vars, backend="matplotlib"),
                                     figures / f"{name}_rank.png"), f"{name}: rank plots (uniform when chains mix)"),
        html.figure(plots.save_arviz(azp.plot_energy(tree, backend="matplotlib"), figures / f"{name}_energy.png"),
                    f"{name}: energy (marginal and transition distributions should overlap)"), level=3)]


def _event_checks(name: str, tree, data: ModelData, frame: pd.DataFrame, figures: Path, ppc_draws: int,
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
    events = outcome if data.spec.family == "bernoulli" else f"{outcome} > 0"
    checks = [html.paragraph(f"Observed events ({events}) against {len(probs)} replicated data sets (each row's "
                             f"{data.spec.group} effect drawn from its posterior given the data).")]
    if by:
        per = " and ".join(key.removeprefix("per ") for key in by)
        figure = plots.plot_replicated_counts(by, f"{name}: events", ylabel=f"Events: {events}")
        checks.append(html.figure(plots.save(figure, figures / f"{name}_ppc_counts.png"),
                                  f"{name}: observed and replicated events per {per} (94% interval)"))
    checks += [html.figure(plots.save(plots.plot_calibration({name: calibration}), figures / f"{name}_calibration.png"),
                           f"{name}: calibration by decile of predicted probability"), html.table(calibration, 6)]
    return checks


def predictive_parts(name: str, tree, data: ModelData, frame: pd.DataFrame, figures: Path, ppc_draws: int,
                     labels: dict[str, str] | None, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Posterior predictive checks: events (marginal fits of logit likelihoods) and, for hurdles, a rootogram of
    the counts; a one-line note for what does not apply."""
    import arviz_plots as azp

    spec = data.spec
    title = "Posterior predictive checks"
    if spec.family == "cumulative":
        return [_skipped(title, "the checks of events are for the bernoulli and hurdle families, not ordinal models")]
    if tree.attrs.get("method") == "marginal":
        checks = _event_checks(name, tree, data, frame, figures, ppc_draws, labels, tables)
    else:
        checks = [html.paragraph(f"Checks of events not shown: they need the marginal kernel, and this fit used "
                                 f"method {tree.attrs.get('method')}.")]
    if "count_coef" in tree["posterior"]:
        label = plots.variable_label(spec.outcome, labels)
        rootogram = azp.plot_ppc_rootogram(count_predictive(tree, data), backend="matplotlib")
        checks.append(html.figure(plots.save_arviz(rootogram, figures / f"{name}_rootogram.png"),
                                  f"{name}: rootogram of {label} among rows with any"))
    return [html.section(title, *checks, level=3)]


def model_section(name: str, tree, spec: ModelSpec, data: ModelData, frame: pd.DataFrame, report: Report,
                  out: Path, ppc_draws: int, labels: dict[str, str] | None = None
                  ) -> tuple[str, dict[str, pd.DataFrame]]:
    """The HTML of one model and the tables it wrote; sections that do not apply to the model (no interaction,
    no group, method plain, ordinal family) become one-line notes."""
    figures, tables = out / "figures", {}
    parts = diagnostics_banner(tree)
    parts += population_parts(name, tree, spec, report, labels, tables)
    parts += key_effect_parts(name, tree, data, figures, labels, tables)
    parts += effect_parts(name, tree, data, report, figures, labels, tables)
    parts += sampling_parts(name, tree, spec, figures)
    parts += predictive_parts(name, tree, data, frame, figures, ppc_draws, labels, tables)
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
    """PSIS-LOO of one fit, leaving one group out (its per-group log-likelihood): ArviZ's ELPDData."""
    import arviz_stats as azs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pareto k problems are shown, not hidden
        return azs.loo(tree, var_name=loglik_name(spec))


def _loo_row(name: str, loo, spec: ModelSpec) -> dict:
    """One fit's PSIS-LOO summary with its Pareto k."""
    threshold = float(loo.good_k) if getattr(loo, "good_k", None) is not None else 0.7
    k = loo.pareto_k.values
    return {"model": name, "grouping": spec.group, "elpd_loo": loo.elpd, "se": loo.se, "p_loo": loo.p,
            "groups": k.size, "k_above_threshold": int((k > threshold).sum()), "k_threshold": threshold,
            "k_max": float(k.max())}


def _has_loglik(tree, spec: ModelSpec) -> bool:
    return (spec.group is not None and "log_likelihood" in tree.children
            and loglik_name(spec) in tree["log_likelihood"].data_vars)


def comparison_section(report: Report, figures: Path) -> tuple[str, pd.DataFrame]:
    """PSIS-LOO (leave one group out) per model, and comparisons among models with the same outcome, sample and
    grouping (only those leave out the same units)."""
    import arviz_stats as azs

    rows, parts, loos = [], [], {}
    groups: dict[tuple[str, str, str], list[str]] = {}
    for name, tree in report.fits.items():
        spec = report.specs[name]
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
            parts.append(html.figure(plots.save_arviz(azp.plot_compare(compared, backend="matplotlib"),
                                                      figures / f"compare_{label}.png"),
                                     f"ELPD of {', '.join(names)} with standard errors"))
    groupings = list(dict.fromkeys(table["grouping"]))
    title = (f"Model comparison by leave-one-{groupings[0]}-out PSIS-LOO" if len(groupings) == 1 else
             f"Model comparison by leave-one-group-out PSIS-LOO ({', '.join(groupings)})")
    return html.section(title, html.paragraph(
        "Models are compared only with models of the same outcome, estimation sample and grouping."), *parts), table


def sensitivity_section(folder: Path, models: list[str] | None = None) -> str | None:
    """The saved results of `coupproof sensitivity` for `models` (default: every model in them), read and not
    recomputed; None when there are none."""
    folder = Path(folder)
    scaling = folder / "power_scaling.csv"
    table = pd.read_csv(scaling) if scaling.is_file() else pd.DataFrame(columns=["model", "diagnosis"])
    sets = {p.stem.removeprefix("prior_sets_"): p for p in sorted(folder.glob("prior_sets_*.csv"))
            if not p.stem.endswith("_effects")}
    if models is not None:
        table = table[table["model"].isin(models)]
        sets = {m: p for m, p in sets.items() if m in models}
    defaults = folder / "prior_defaults.csv"
    if table.empty and not sets and not defaults.is_file():
        return None
    parts = [html.paragraph(
        "Power-scaling (Kallioinen et al. 2023): how much each posterior moves when the prior or the likelihood is "
        "raised to a power near 1. Sensitivity to both suggests prior-data conflict; to the prior alone, a weak "
        "likelihood. Then refits under alternative prior sets.")]
    if not table.empty:
        flagged = table[table["diagnosis"] != "\N{CHECK MARK}"]
        if not flagged.empty:
            listed = "; ".join(f"{model}: {', '.join(f'{r.parameter} ({r.diagnosis})' for r in rows.itertuples())}"
                               for model, rows in flagged.groupby("model", sort=False))
            parts.append(html.banner(f"{len(flagged)} of {len(table)} parameters flagged by power-scaling: {listed}"))
        parts.append(html.table(table))
    if defaults.is_file():
        figure = folder / "prior_defaults.png"
        parts.append(html.section(
            "The default priors against the regularising and wide sets", html.paragraph(prior_defaults.RULE),
            html.table(pd.read_csv(defaults)),
            html.figure(figure, "Each interaction by prior set, in frequentist SEs from its mean under the wide set")
            if figure.is_file() else "", level=3))
    for model, path in sets.items():
        parts.append(html.section(f"{model} under alternative prior sets", html.table(pd.read_csv(path)), *[
            html.figure(folder / name, caption) for name, caption in (
                (f"prior_sets_{model}_forest.png", f"{model}: the interaction under each prior set"),
                (f"prior_sets_{model}_effects.png", f"{model}: marginal effect of the focal variable by prior set"),
                (f"power_scaling_{model}.png", f"{model}: the interaction with prior and likelihood power-scaled"))
            if (folder / name).is_file()], level=3))
    return html.section("Prior sensitivity", *parts, anchor="sensitivity")


def model_bodies(report: Report, frame: pd.DataFrame, out: Path, ppc_draws: int, labels: dict[str, str]
                 ) -> tuple[list[str], dict[str, pd.DataFrame]]:
    """Each model's section and tables; a model whose data this panel cannot give is left out with a warning."""
    bodies, tables = [], {}
    for name, tree in report.fits.items():
        spec = report.specs[name]
        try:
            data = model_data(frame, spec)
        except SpecError as exc:
            report.warnings.append(f"{name}: cannot rebuild its data from this panel ({exc}); the model is left "
                                   "out of this report")
            continue
        body, model_tables = model_section(name, tree, spec, data, frame, report, out, ppc_draws, labels)
        bodies.append(body)
        tables.update(model_tables)
    return bodies, tables


def robustness_section(folder: Path) -> str | None:
    """The saved results of `coupproof robustness` (read, not recomputed): the key interactions across variants,
    the forest plot, each variant's reading of the paper and its table; None when there are none."""
    from models.robustness import load_variants

    folder = Path(folder)
    findings_path = folder / "key_findings.csv"
    if not findings_path.is_file():
        return None
    findings = pd.read_csv(findings_path)
    parts = [html.paragraph(
        "The paper's robustness checks (section 5 and its appendix), each a variant of Table 1 Models 2 and 4 (Table "
        "2's for the Heckman models) built as formulas and panel options. 'As in main table' compares the key "
        "interaction's sign and significance with the main tables: Model 2 not significant, Model 4 negative and "
        "significant; Table 2's count parts positive (Model 1) and negative (Model 2) and significant. The Bayesian "
        "verdict asks the same of the 94% HDI.")]
    failed = findings.get("bayes_diagnostics_passed", pd.Series(dtype=object)).eq(False)
    if failed.any():
        parts.append(html.banner("Bayesian fits that failed their diagnostics (do not interpret them): "
                                 + ", ".join(findings.loc[failed, "model"]), "fail"))
    parts.append(html.table(findings))
    if (folder / "forest_key_interactions.png").is_file():
        parts.append(html.figure(folder / "forest_key_interactions.png",
                                 "Key interactions across variants: frequentist and Bayesian side by side"))
    variants = load_variants()
    for name in dict.fromkeys(findings["variant"]):
        table = folder / f"{name}.csv"
        if not table.is_file():
            continue
        reading = variants[name].reading if name in variants else "the main models (Tables 1 and 2)"
        parts.append(html.section(variants[name].label if name in variants else "Main models",
                                  html.paragraph(reading), html.table(pd.read_csv(table).rename(
                                      columns={"Unnamed: 0": "term"})), level=3))
    return html.section("Robustness checks", *parts, anchor="robustness")


def build_report(fits_dir: Path, panel: Path, freq_path: Path | None, out: Path, models: list[str] | None = None,
                 specs: dict[str, ModelSpec] = PAPER_MODELS, ppc_draws: int = 200,
                 sensitivity: Path | None = None, robustness: Path | None = None,
                 title: str = "Coup-proofing and alliances: Bayesian report", calibration: Path | None = None
                 ) -> Path:
    """Write out/report.html, out/figures/*.png and out/tables/*.csv; returns the HTML path."""
    ds = read_panel(panel)
    frame = panel_to_frame(ds)
    labels = plots.panel_labels(ds)
    report = gather(fits_dir, ds.attrs.get("panel_checksum", ""), freq_path, models or list(specs), specs)
    bodies, tables = model_bodies(report, frame, out, ppc_draws, labels)
    checksum = str(ds.attrs.get("panel_checksum", ""))[:12]
    sections = [html.paragraph(f"Bayesian fits of the models below with their group random intercepts. "
                               f"{ds.attrs.get('title', 'Panel')}: {panel} (checksum {checksum}). "
                               f"Substitutes: {ds.attrs.get('substitutes', 'none recorded')}")]
    sections += [html.banner(w) for w in report.warnings]
    tables["overview"] = overview_table(tables)
    sections.append(html.section("Overview: the interactions", html.paragraph(
        "Each model's interaction (logit, zero or ordinal part): posterior mean, sd and 94% HDI, the posterior "
        "probability that it is negative, our frequentist estimate (clustered SE) and the paper's."),
        html.table(tables["overview"])))
    sections += bodies
    comparison, loo_table = comparison_section(report, out / "figures")
    sections.append(comparison)
    prior_section = sensitivity_section(sensitivity, list(report.fits)) if sensitivity else None
    sections.append(prior_section or html.paragraph("No prior-sensitivity results yet: run 'make sensitivity'."))
    robust_section = robustness_section(robustness) if robustness else None
    sections.append(robust_section or html.paragraph("No robustness results yet: run 'make robustness'."))
    calibrated = calibration_section(calibration) if calibration else None
    sections.append(calibrated or html.paragraph("No calibration results yet: run 'make validate'."))
    tables["loo"] = loo_table
    for key, table in tables.items():
        atomic_write_text(out / "tables" / f"{key}.csv", table.to_csv(index=False))
    return atomic_write_text(out / "report.html", html.page(title, sections))
