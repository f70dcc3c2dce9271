"""`coupproof` command line: one subcommand per stage of the workflow (data, and later fit and report)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from data_prep.sources import DATA_DIR_ENV, DEFAULT_DATA_DIR, DataError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Bayesian workbench for coup-proofing and alliances (McWard & Yoon 2023 and extensions).")
console = Console(stderr=True)

DataDir = Annotated[Path, typer.Option(envvar=DATA_DIR_ENV, help="Raw data directory (one folder per source).")]


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


@app.callback()
def main() -> None:
    """Build the dyad panel, fit the models, write the reports."""


@app.command()
def data(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    out: Annotated[Path, typer.Option(help="Where to write the panel (netCDF).")] = Path("build/panel.nc"),
    start: Annotated[int, typer.Option(help="First year of the panel.")] = 1960,
    end: Annotated[int, typer.Option(help="Last year of the panel.")] = 2010,
    max_polity_a: Annotated[int, typer.Option(help="State A is a nondemocracy: Polity2 at most this (99 = all).")] = 6,
    alliance_exclusion: Annotated[str, typer.Option(help="Threat: alliance types that make a state a non-adversary: four|five.")] = "four",
    major_prie: Annotated[str, typer.Option(help="Threat: a major power's relevant environment: whole_system|contig_majors.")] = "whole_system",
    sscore: Annotated[str, typer.Option(help="Threat: S-score variant: unweighted|weighted.")] = "unweighted",
    regional_powers: Annotated[str, typer.Option(help="Threat: add Maoz regional powers to the environment: off|maoz.")] = "off",
    concession_scoring: Annotated[str, typer.Option(help="Concessions: binary|ordinal_sum.")] = "binary",
    concession_items: Annotated[str, typer.Option(help="Concessions: item list autonomy|broad.")] = "autonomy",
    check: Annotated[bool, typer.Option(help="Compare the panel with the paper and save the comparison.")] = False,
) -> None:
    """Build the directed dyad-year panel from the raw sources and save it as netCDF."""
    from data_prep.concessions import ConcessionOptions
    from data_prep.panel import PanelOptions, build_panel, write_panel
    from data_prep.sources import RawData
    from data_prep.threat import ThreatOptions

    try:
        options = PanelOptions(
            start=start, end=end, max_polity_a=None if max_polity_a >= 10 else max_polity_a,
            threat=ThreatOptions(alliance_exclusion=alliance_exclusion, major_prie=major_prie, sscore=sscore,
                                 regional_powers=regional_powers),
            concessions=ConcessionOptions(scoring=concession_scoring, item_list=concession_items))
        began = time.perf_counter()
        with console.status(f"Building the {start}-{end} panel from {data_dir} ..."):
            ds = build_panel(RawData(data_dir), options)
            write_panel(ds, out)
    except (DataError, ValueError) as exc:
        _fail(str(exc))
    rows = int(ds["in_panel"].sum())
    console.print(f"[green]Panel written[/] to {out}: {rows:,} directed dyad-years, {ds.sizes['dyad']:,} dyads, "
                  f"{int(ds['new_defense_pact'].sum())} new pacts ({time.perf_counter() - began:.1f} s).")
    if check:
        _write_check(ds, out)


def _write_check(ds, out: Path) -> None:
    from data_prep.checks import compare_with_paper, format_report, sample_overview
    from data_prep.io import atomic_write_text

    comparison = compare_with_paper(ds)
    text = format_report(sample_overview(ds), comparison)
    atomic_write_text(out.with_name(out.stem + "_check.md"), text)
    atomic_write_text(out.with_name(out.stem + "_check.csv"), comparison.to_csv(index=False))
    typer.echo(text)


if __name__ == "__main__":
    app()
