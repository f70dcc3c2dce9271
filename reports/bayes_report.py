"""`coupproof report`: one self-contained HTML report of the saved Bayesian fits, with the figures as PNG and the
tables as CSV. Reads saved fits, the frequentist results and the panel; never refits.

An overview of the interactions, then sections per model: diagnostics banner, population parameters next to the frequentist and the paper's estimates,
the posterior probability of the interaction's sign, the marginal effect of counterbalancing (conditional and
population-averaged, with the frequentist curve), predicted probabilities, concessions (hurdle models), trace,
rank and energy plots, and posterior predictive checks for rare events. Then model comparison by leave-one-dyad-
out PSIS-LOO within each estimation sample, with Pareto k shown, and the results of `coupproof sensitivity`
when there are any.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from data_prep.io import atomic_write_text
from data_prep.panel import panel_to_frame, read_panel
from inference.fitting import POPULATION
from inference.frequentist import FitResult, load_results
from inference.store import FitFileError, fit_spec, load_fit
from models.design import ModelData, model_data
from models.specs import ModelSpec, PAPER_MODELS

from . import html
from . import posterior_plots as plots
from .frequentist import marginal_effect_curve
from .posterior_effects import (EffectDraws, concession_curves, marginal_effect_curves,
                                predicted_probability_curves)
from .posterior_tables import interaction_probabilities, population_table
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


def gather(fits_dir: Path, panel_checksum: str, freq_path: Path | None, models: list[str],
           specs: dict[str, ModelSpec] = PAPER_MODELS, method: str = "marginal") -> Report:
    """Load what exists; a fit not yet made, missing frequentist results or a checksum that differs from the
    panel's becomes a visible warning. A damaged fit file, or no fit at all, is an error."""
    report = Report()
    for name in models:
        path = Path(fits_dir) / f"{name}_{method}.nc"
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
    part = "logit" if family == "logit" else "zero"
    return next((f for f in freq if f.model == model and f.part == part), None)


def model_section(name: str, tree, spec: ModelSpec, data: ModelData, frame: pd.DataFrame, report: Report,
                  out: Path, ppc_draws: int) -> tuple[str, dict[str, pd.DataFrame]]:
    """The HTML of one model and the tables it wrote."""
    import arviz_plots as azp

    figures, tables = out / "figures", {}
    parts = []
    if not int(tree.attrs.get("diagnostics_passed", 1)):
        problems = "; ".join(json.loads(tree.attrs.get("diagnostics_problems", "[]")))
        parts.append(html.banner(f"FIT FAILED ITS DIAGNOSTICS: {problems}. Do not interpret it before refitting.",
                                 "fail"))
    population = population_table(tree, report.freq)
    signs = interaction_probabilities(tree)
    tables[f"{name}_population"], tables[f"{name}_interaction_sign"] = population, signs
    parts += [html.section("Population parameters", html.paragraph(
        "Posterior mean, sd and 94% HDI on the covariates' original scale, with R-hat and ESS; 'freq' is our "
        "logit with dyad-clustered SEs, 'paper' is McWard & Yoon (2023)."), html.table(population), level=3),
        html.section("Sign of the interaction", html.table(signs), level=3)]

    moderator = spec.interaction[1]
    draws = EffectDraws.from_fit(tree)
    effects = marginal_effect_curves(draws, data, moderator)
    freq_fit = _freq_part(report.freq, name, spec.family)
    freq_curve = marginal_effect_curve(freq_fit, data, moderator) if freq_fit else None
    probabilities = predicted_probability_curves(draws, data, moderator)
    tables[f"{name}_marginal_effects"], tables[f"{name}_predicted_probabilities"] = effects, probabilities
    outcome = "Pr(new pact)" if spec.family == "logit" else "Pr(new pact with any concession)"
    parts.append(html.section(
        "Marginal effect of counterbalancing", html.paragraph(
            f"The effect of counterbalancing on {outcome} across the observed range of {moderator}, other "
            "covariates at their sample means. 'Conditional' is for a dyad whose own effect is zero; "
            "'population-averaged' averages over the distribution of dyad effects. The dashed line is the "
            "frequentist curve."),
        html.figure(plots.plot_marginal_effects(effects, freq_curve, figures / f"{name}_marginal_effects.png"),
                    f"{name}: marginal effect of counterbalancing (94% HDI)"),
        html.figure(plots.plot_predicted_probabilities(probabilities, figures / f"{name}_predicted.png",
                                                       ylabel=outcome),
                    f"{name}: {outcome} at counterbalancing 0, mean and mean + 1 sd"), level=3))
    if spec.family == "hurdle":
        concessions = concession_curves(draws, data, moderator)
        tables[f"{name}_concessions"] = concessions
        parts.append(html.section("Concessions", html.figure(
            plots.plot_concessions(concessions, figures / f"{name}_concessions.png"),
            f"{name}: Pr(any concession) and expected number of concessions"), level=3))

    population_vars = [v for v in POPULATION if v in tree["posterior"]]
    divergences = int(tree["sample_stats"]["diverging"].sum()) if "diverging" in tree["sample_stats"] else 0
    term = spec.interaction_term
    parts.append(html.section(
        "Sampling diagnostics", html.paragraph(f"{divergences} divergent transitions."),
        html.figure(plots.save_arviz(azp.plot_trace_dist(tree, var_names=["coef", "dyad_sd"],
                                                         coords={"coef_term": [spec.interaction[0], term]},
                                                         backend="matplotlib"), figures / f"{name}_trace.png"),
                    f"{name}: traces of the interaction, counterbalancing and dyad_sd"),
        html.figure(plots.save_arviz(azp.plot_rank(tree, var_names=population_vars, backend="matplotlib"),
                                     figures / f"{name}_rank.png"), f"{name}: rank plots (uniform when chains mix)"),
        html.figure(plots.save_arviz(azp.plot_energy(tree, backend="matplotlib"), figures / f"{name}_energy.png"),
                    f"{name}: energy (marginal and transition distributions should overlap)"), level=3))

    probs = row_probabilities(tree, data, draws=ppc_draws)
    rows = frame.loc[data.y.index]
    observed = (data.y.to_numpy() > 0).astype(float)
    by_decade = replicate_counts(probs, (rows["year"] // 10 * 10).astype(int).astype(str) + "s", observed)
    by_region = replicate_counts(probs, region_of(rows["ccode_a"]), observed)
    calibration = calibration_table(probs, observed)
    tables.update({f"{name}_ppc_decade": by_decade, f"{name}_ppc_region": by_region,
                   f"{name}_calibration": calibration})
    checks = [html.paragraph(f"Observed events against {len(probs)} replicated data sets (each row's dyad effect "
                             "drawn from its posterior given the data)."),
              html.figure(plots.plot_replicated_counts({"per decade": by_decade, "per region of State A": by_region},
                                                       figures / f"{name}_ppc_counts.png", f"{name}: events"),
                          f"{name}: observed and replicated events per decade and region (94% interval)"),
              html.figure(plots.plot_calibration({name: calibration}, figures / f"{name}_calibration.png"),
                          f"{name}: calibration by decile of predicted probability"), html.table(calibration, 6)]
    if spec.family == "hurdle":
        rootogram = azp.plot_ppc_rootogram(count_predictive(tree, data), backend="matplotlib")
        checks.append(html.figure(plots.save_arviz(rootogram, figures / f"{name}_rootogram.png"),
                                  f"{name}: rootogram of the number of concessions among pacts with any"))
    parts.append(html.section("Posterior predictive checks", *checks, level=3))
    return html.section(f"{spec.label} ({name}): {spec.description}", *parts, anchor=name), tables


def overview_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per model: the interaction of the logit or zero part, posterior against frequentist and paper."""
    rows = []
    for key, signs in tables.items():
        if not key.endswith("_interaction_sign"):
            continue
        model = key.removesuffix("_interaction_sign")
        first = signs.iloc[0]
        population = tables[f"{model}_population"]
        row = population[(population["part"] == first["part"]) & (population["term"] == first["term"])].iloc[0]
        rows.append({"model": model, "interaction": first["term"], "mean": row["mean"], "sd": row["sd"],
                     "hdi_lower": row["hdi_lower"], "hdi_upper": row["hdi_upper"],
                     "pr_negative": first["pr_negative"], "freq": row["freq"], "freq_se": row["freq_se"],
                     "paper": row["paper"], "paper_se": row["paper_se"]})
    return pd.DataFrame(rows)


def comparison_section(report: Report, figures: Path) -> tuple[str, pd.DataFrame]:
    """PSIS-LOO (leave one dyad out) per model, and comparisons among models with the same outcome and sample."""
    import arviz_stats as azs

    rows, parts = [], []
    groups: dict[tuple[str, str], list[str]] = {}
    for name, tree in report.fits.items():
        if "log_likelihood" not in tree.children:
            continue
        spec = report.specs[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pareto k problems are shown, not hidden
            loo = azs.loo(tree, var_name="dyad_loglik")
        threshold = float(loo.good_k) if getattr(loo, "good_k", None) is not None else 0.7
        k = loo.pareto_k.values
        rows.append({"model": name, "elpd_loo": loo.elpd, "se": loo.se, "p_loo": loo.p,
                     "dyads": k.size, "k_above_threshold": int((k > threshold).sum()), "k_threshold": threshold,
                     "k_max": float(k.max())})
        groups.setdefault((spec.outcome, spec.sample), []).append(name)
    table = pd.DataFrame(rows)
    if table.empty:
        return html.section("Model comparison", html.paragraph("No fit has a dyad log-likelihood.")), table
    bad = table[table["k_above_threshold"] > 0]
    if not bad.empty:
        parts.append(html.banner("Pareto k above the threshold (the PSIS estimate of those dyads' contribution is "
                                 "unreliable): " + ", ".join(f"{r.model}: {r.k_above_threshold} dyad(s), max k "
                                                              f"{r.k_max:.2f}" for r in bad.itertuples())))
    parts.append(html.table(table))
    for (outcome, sample), names in groups.items():
        if len(names) > 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compared = azs.compare({n: report.fits[n] for n in names}, var_name="dyad_loglik")
            import arviz_plots as azp

            label = "_".join(names)
            parts.append(html.paragraph(f"{', '.join(names)} ({outcome}, sample {sample}):"))
            parts.append(html.table(compared.reset_index().rename(columns={"index": "model"})))
            parts.append(html.figure(plots.save_arviz(azp.plot_compare(compared, backend="matplotlib"),
                                                      figures / f"compare_{label}.png"),
                                     f"ELPD of {', '.join(names)} with standard errors"))
    return html.section("Model comparison by leave-one-dyad-out PSIS-LOO", html.paragraph(
        "Models are compared only with models of the same outcome and estimation sample."), *parts), table


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
    if table.empty and not sets:
        return None
    parts = [html.paragraph(
        "Power-scaling (Kallioinen et al. 2023): how much each posterior moves when the prior or the likelihood is "
        "raised to a power near 1. Sensitivity to both suggests prior-data conflict; to the prior alone, a weak "
        "likelihood. Then refits under alternative prior sets.")]
    if not table.empty:
        flagged = table[table["diagnosis"] != "\N{CHECK MARK}"]
        if not flagged.empty:
            parts.append(html.banner(f"{len(flagged)} of {len(table)} parameters flagged by power-scaling: " + "; ".join(
                f"{model}: {', '.join(f'{r.parameter} ({r.diagnosis})' for r in rows.itertuples())}"
                for model, rows in flagged.groupby("model", sort=False))))
        parts.append(html.table(table))
    for model, path in sets.items():
        parts.append(html.section(f"{model} under alternative prior sets", html.table(pd.read_csv(path)), *[
            html.figure(folder / name, caption) for name, caption in (
                (f"prior_sets_{model}_forest.png", f"{model}: the interaction under each prior set"),
                (f"prior_sets_{model}_effects.png", f"{model}: marginal effect of counterbalancing by prior set"),
                (f"power_scaling_{model}.png", f"{model}: the interaction with prior and likelihood power-scaled"))
            if (folder / name).is_file()], level=3))
    return html.section("Prior sensitivity", *parts, anchor="sensitivity")


def build_report(fits_dir: Path, panel: Path, freq_path: Path | None, out: Path, models: list[str] | None = None,
                 specs: dict[str, ModelSpec] = PAPER_MODELS, ppc_draws: int = 200,
                 sensitivity: Path | None = None) -> Path:
    """Write out/report.html, out/figures/*.png and out/tables/*.csv; returns the HTML path."""
    ds = read_panel(panel)
    frame = panel_to_frame(ds)
    report = gather(fits_dir, ds.attrs.get("panel_checksum", ""), freq_path, models or list(specs), specs)
    sections = [html.paragraph("Bayesian refits of McWard & Yoon (2023) with dyad random intercepts. "
                               f"Panel {panel} (checksum {str(ds.attrs.get('panel_checksum', ''))[:12]}). "
                               f"Substitutes: {ds.attrs.get('substitutes', 'none recorded')}")]
    sections += [html.banner(w) for w in report.warnings]
    tables: dict[str, pd.DataFrame] = {}
    bodies = []
    for name, tree in report.fits.items():
        spec = report.specs[name]
        body, model_tables = model_section(name, tree, spec, model_data(frame, spec), frame, report, out, ppc_draws)
        bodies.append(body)
        tables.update(model_tables)
    tables["overview"] = overview_table(tables)
    sections.append(html.section("Overview: the interactions", html.paragraph(
        "Each model's interaction (logit or zero part): posterior mean, sd and 94% HDI, the posterior probability "
        "that it is negative, our frequentist estimate (clustered SE) and the paper's."), html.table(tables["overview"])))
    sections += bodies
    comparison, loo_table = comparison_section(report, out / "figures")
    sections.append(comparison)
    prior_section = sensitivity_section(sensitivity, list(report.fits)) if sensitivity else None
    sections.append(prior_section or html.paragraph("No prior-sensitivity results yet: run 'make sensitivity'."))
    tables["loo"] = loo_table
    for key, table in tables.items():
        atomic_write_text(out / "tables" / f"{key}.csv", table.to_csv(index=False))
    return atomic_write_text(out / "report.html", html.page("Coup-proofing and alliances: Bayesian report", sections))
