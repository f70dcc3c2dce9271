"""Console output shared by the CLI and the Python API (rich tables on stderr)."""

from __future__ import annotations

from rich.console import Console

console = Console(stderr=True)


def print_diagnostics(name: str, diagnostics, seconds: float, priors: list[str] = (), draws: int | None = None
                      ) -> None:
    """A fit's posterior summary and diagnostics table, the priors it used in words, then the verdict (a failed
    fit flagged in red)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"{name}: posterior summary and diagnostics ({seconds:.0f} s)")
    columns = ["mean", "sd", "hdi94_lb", "hdi94_ub", "r_hat", "ess_bulk", "ess_tail", "mcse_mean"]
    table.add_column("parameter")
    for column in columns:
        table.add_column(column, justify="right")
    for parameter, row in diagnostics.table.iterrows():
        table.add_row(escape(str(parameter)), *(f"{row[c]:.3g}" for c in columns))
    Console(width=max(Console().width, 110)).print(table)
    for line in priors:
        console.print(f"  prior  {escape(line)}", highlight=False, soft_wrap=True)
    bfmi = ", ".join(f"{b:.2f}" for b in diagnostics.bfmi) or "n/a"
    console.print(f"divergences: {diagnostics.divergences}; E-BFMI per chain: {bfmi}")
    if diagnostics.passed:
        console.print(f"[green]diagnostics passed[/] (R-hat <= {diagnostics.rhat_max}, bulk and tail ESS >= "
                      f"{diagnostics.ess_min}, no divergences)")
    elif diagnostics.short_of_draws:  # an exploratory fit: say what falls short and what would meet the gate
        more = (f"; about {diagnostics.draws_for_gate(draws):,} draws per chain would reach it" if draws else "")
        console.print(f"[yellow]below the diagnostics gate[/] {name}: {escape('; '.join(diagnostics.problems))}{more} "
                      "(fine for a first look; refit longer before reporting it)", soft_wrap=True)
    else:
        console.print(f"[bold white on red] FIT FAILED ITS DIAGNOSTICS [/] {name}: "
                      + escape("; ".join(diagnostics.problems)), soft_wrap=True)


def estimate_text(value: float, se: float = float("nan")) -> str:
    """'1.234 (0.567)', '1.234', or '' for a missing value."""
    if value != value:
        return ""
    return f"{value:.3f}" if se != se else f"{value:.3f} ({se:.3f})"


def print_comparison(comparison) -> None:
    from rich.table import Table

    table = Table(title="Ours vs McWard & Yoon (2023): estimate (dyad-clustered SE), dyad-robust SE (Aronow, Samii "
                        "& Assenova); difference in paper SEs")
    for column in ("model", "part", "term", "ours", "dyad-robust SE", "paper", "diff (paper SE)", "sign"):
        table.add_column(column)
    for row in comparison.itertuples():
        sign = {True: "agree", False: "[red]FLIP[/]"}.get(row.sign_agrees, "")
        robust = getattr(row, "our_se_dyad_robust", float("nan"))
        table.add_row(row.model, row.part, row.term, estimate_text(row.ours, row.our_se), estimate_text(robust),
                      estimate_text(row.paper, row.paper_se), estimate_text(row.diff_in_paper_se), sign)
    Console(width=max(Console().width, 130)).print(table)


def print_findings(findings) -> None:
    import pandas as pd
    from rich.table import Table

    shown = Table(title="Key interactions: as in the main table?")
    for column in ("variant", "model", "term", "estimate (SE)", "p", "posterior mean (sd)", "as in main table"):
        shown.add_column(column, justify="left" if column in ("variant", "model", "term") else "right")
    for _, row in findings.iterrows():
        shown.add_row(row["variant"], row["model"], row["term"],
                      estimate_text(row.get("freq_estimate", float("nan")), row.get("freq_se", float("nan"))),
                      "" if pd.isna(row.get("freq_p")) else f"{row['freq_p']:.3f}",
                      estimate_text(row.get("bayes_mean", float("nan")), row.get("bayes_sd", float("nan"))),
                      str(row["as_in_main_table"]))
    Console(width=max(Console().width, 130)).print(shown)


def print_prior_sets(table) -> None:
    """The focus term under each prior set, with the group sd (a column named after the grouping) where there is one."""
    from rich.table import Table

    group_sd = [c for c in table.columns if c.endswith("_sd")]
    first = table.iloc[0]
    shown = Table(title=f"{first['model']}: {first['term']} under each prior set")
    for column in ("prior set", "mean", "sd", "94% HDI", "Pr(< 0)", *group_sd, "diagnostics"):
        shown.add_column(column, justify="left" if column == "prior set" else "right")
    for _, row in table.iterrows():
        shown.add_row(row["prior_set"], f"{row['mean']:.2f}", f"{row['sd']:.2f}",
                      f"[{row['hdi_lower']:.2f}, {row['hdi_upper']:.2f}]", f"{row['pr_negative']:.3f}",
                      *(f"{row[c]:.2f}" for c in group_sd), "passed" if row["diagnostics_passed"] else "FAILED")
    Console(width=max(Console().width, 110)).print(shown)


def print_prior_defaults(table) -> None:
    from rich.table import Table

    sets = [c.removeprefix("mean_") for c in table.columns if c.startswith("mean_")]
    shown = Table(title="Key interactions by prior set (shift from the wide set in frequentist SEs)")
    for column in ("model", "part", "freq (SE)", *sets, "default shift", "flagged", "meets"):
        shown.add_column(column, justify="left" if column in ("model", "part", "flagged") else "right")
    for _, row in table.iterrows():
        shown.add_row(row["model"], row["part"], estimate_text(row["freq_estimate"], row["freq_se"]),
                      *(f"{row[f'mean_{name}']:.2f}" for name in sets), f"{row['shift_default_se']:+.2f}",
                      row["flagged_under_default"], "yes" if row["meets_criterion"] else "NO")
    Console(width=max(Console().width, 130)).print(shown)


def print_prior_check(table) -> None:
    """Each model's quantities in the data against the central 90% of its prior predictive distribution; a value
    outside flagged in red."""
    from rich.markup import escape
    from rich.table import Table

    shown = Table(title="Prior predictive check: the data against what the priors predict")
    for column in ("model", "quantity", "in the data", "prior median [central 90%]", "percentile", "inside"):
        shown.add_column(column, justify="left" if column in ("model", "quantity") else "right")
    for _, row in table.iterrows():
        shown.add_row(escape(str(row["model"])), row["quantity"], f"{row['in_data']:.3g}",
                      f"{row['prior_median']:.3g} [{row['prior_low']:.3g}, {row['prior_high']:.3g}]",
                      f"{row['percentile']:.2f}", "yes" if row["inside"] else "[bold red]NO[/]")
    Console(width=max(Console().width, 120)).print(shown)
