"""Console output shared by the CLI and the Python API (rich tables on stderr)."""

from __future__ import annotations

from rich.console import Console

console = Console(stderr=True)


def print_diagnostics(name: str, diagnostics, seconds: float) -> None:
    """A fit's posterior summary and diagnostics table, then the verdict (a failed fit flagged in red)."""
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
    bfmi = ", ".join(f"{b:.2f}" for b in diagnostics.bfmi) or "n/a"
    console.print(f"divergences: {diagnostics.divergences}; E-BFMI per chain: {bfmi}")
    if diagnostics.passed:
        console.print(f"[green]diagnostics passed[/] (R-hat <= {diagnostics.rhat_max}, bulk and tail ESS >= "
                      f"{diagnostics.ess_min}, no divergences)")
    else:
        console.print(f"[bold white on red] FIT FAILED ITS DIAGNOSTICS [/] {name}: "
                      + escape("; ".join(diagnostics.problems)), soft_wrap=True)
