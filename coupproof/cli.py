"""`coupproof` command line: one subcommand per stage of the workflow (data, freq, fit, report, sensitivity).

Every command checks all its options, paths and configuration files before any work starts. Any failure a user
can cause (bad input, a file that cannot be read or written) ends in one line naming the file, column or option
and the problem, with exit code 2; an interrupt (Ctrl-C, SIGTERM) exits with 130 or 143 and leaves no output.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from data_prep.io import check_output
from data_prep.sources import DATA_DIR_ENV, DEFAULT_DATA_DIR

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Bayesian workbench for coup-proofing and alliances (McWard & Yoon 2023 and extensions).")
console = Console(stderr=True)

DataDir = Annotated[Path, typer.Option(envvar=DATA_DIR_ENV, help="Raw data directory (one folder per source).")]
DEBUG_ENV = "COUPPROOF_DEBUG"  # set to 1 to see the traceback of an unexpected error


class Interrupted(BaseException):
    """Raised by the signal handlers, so that samplers that catch KeyboardInterrupt to return partial draws stop
    instead, and every atomic write removes its temporary file on the way out."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _fail(message: str) -> None:
    from rich.markup import escape

    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _describe(exc: BaseException) -> str:
    """One line for a user-facing error; a file-system error names its file."""
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return " ".join(str(exc).split()) or type(exc).__name__


_received: list[int] = []  # signals received during the running command
_finished = threading.Event()  # set when the running command has ended


def _on_signal(signum, _frame) -> None:
    """Stop the command. Code that swallows the exception (numba does while it compiles) gets it again every
    second until the command ends."""
    if not _received:
        threading.Thread(target=_repeat_interrupt, args=(signum,), daemon=True).start()
    _received.append(signum)
    raise Interrupted(signum)


def _repeat_interrupt(signum: int) -> None:
    import _thread

    while not _finished.wait(1.0):
        _thread.interrupt_main(signum)


def _unraisable(hook):
    """Python's hook for exceptions it cannot raise (e.g. in a ctypes callback or a destructor), silent about an
    interrupt that landed there and about anything after an interrupt: the command reports the interrupt itself."""
    return lambda info: None if _received or isinstance(info.exc_value, Interrupted) else hook(info)


def guarded(command):
    """Run a command body so that user errors (ValueError and its subclasses: bad options, specs, priors, data
    and fit files; OSError: paths) become one line and exit 2, interrupts exit 128 + signal number, and an
    unexpected error is one line too (with the traceback when COUPPROOF_DEBUG=1), exit 1."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        main_thread = threading.current_thread() is threading.main_thread()
        previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)} if main_thread else {}
        hook, sys.unraisablehook = sys.unraisablehook, _unraisable(sys.unraisablehook)
        _received.clear()
        _finished.clear()
        try:
            command(*args, **kwargs)
            if _received:  # a library swallowed the interrupt and carried on: still not a success
                raise Interrupted(_received[0])
        except (typer.Exit, typer.Abort):
            raise
        except (Interrupted, KeyboardInterrupt, Exception) as exc:
            if _received or isinstance(exc, (Interrupted, KeyboardInterrupt)):
                # a library may have swallowed the interrupt and failed otherwise (numba mid-compilation does)
                signum = _received[0] if _received else signal.SIGINT
                console.print(f"[bold red]interrupted[/] ({signal.Signals(signum).name}); the output being "
                              "written was not kept")
                raise typer.Exit(code=128 + signum) from None
            if isinstance(exc, (ValueError, OSError)):
                _fail(_describe(exc))
            if os.environ.get(DEBUG_ENV):
                raise
            console.print(f"[bold red]internal error:[/] {type(exc).__name__}: {_describe(exc)} "
                          f"(set {DEBUG_ENV}=1 for the traceback)", highlight=False, soft_wrap=True)
            raise typer.Exit(code=1) from None
        finally:
            _finished.set()
            # after an interrupt the process is ending: objects a library was building when it landed (llvmlite's
            # mid-compilation) fail in their destructors at exit, which is noise, not news
            sys.unraisablehook = (lambda info: None) if _received else hook
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return run


def command(name: str | None = None):
    """`app.command`, with the body run under `guarded`."""
    return lambda function: app.command(name)(guarded(function))


def _names(text: str, all_names, option: str = "model", what: str = "model") -> list[str]:
    """Comma-separated names ('all' stands for `all_names`); at least one."""
    names = list(all_names) if text == "all" else [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ValueError(f"--{option} names no {what}")
    return names


def _at_least(value: int, minimum: int, option: str) -> int:
    if value < minimum:
        raise ValueError(f"--{option} must be at least {minimum}, got {value}")
    return value


@app.callback()
def main() -> None:
    """Build the dyad panel, fit the models, write the reports."""


@command()
def data(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    out: Annotated[Path | None, typer.Option(help="Where to write the panel (netCDF); default build/panel.nc, "
                                             "build/country_year/panel.nc for --design country_year.")] = None,
    design: Annotated[str, typer.Option(help="dyad (McWard & Yoon: directed dyad-years) | country_year (Rahman "
                                             "2026: DCAs and coups) | pact (new pacts and their institutionalization, "
                                             "Kim & Woods 2022); the threat and concession options are the dyad's."
                                        )] = "dyad",
    start: Annotated[int | None, typer.Option(help="First year of the panel (default 1960; country_year 1981).")]
    = None,
    end: Annotated[int, typer.Option(help="Last year of the panel.")] = 2010,
    dca_start: Annotated[str, typer.Option(help="country_year: a DCA is in force from its signature | "
                                                "entry_into_force year (where DCAD has one).")] = "signature",
    max_polity_a: Annotated[int, typer.Option(help="State A is a nondemocracy: Polity2 at most this (99 = all).")] = 6,
    alliance_exclusion: Annotated[str, typer.Option(help="Threat: alliance types that make a state a non-adversary: four|five.")] = "four",
    major_prie: Annotated[str, typer.Option(help="Threat: a major power's relevant environment: whole_system|contig_majors.")] = "whole_system",
    sscore: Annotated[str, typer.Option(help="Threat: S-score variant: unweighted|weighted.")] = "unweighted",
    regional_powers: Annotated[str, typer.Option(help="Threat: add Maoz regional powers to the environment: off|maoz.")] = "off",
    concession_scoring: Annotated[str, typer.Option(help="Concessions: binary|ordinal_sum.")] = "binary",
    concession_items: Annotated[str, typer.Option(help="Concessions: item list autonomy|broad.")] = "autonomy",
    concession_config: Annotated[Path | None, typer.Option(help="Concessions: your own item table (TOML).")] = None,
    check: Annotated[bool, typer.Option(help="Compare the panel with the paper and save the comparison.")] = False,
) -> None:
    """Build the directed dyad-year panel (or, with --design country_year, the country-year panel) from the raw
    sources and save it as netCDF."""
    if design not in DESIGNS:
        raise ValueError(f"--design must be one of {', '.join(DESIGNS)}, got {design!r}")
    if design == "country_year":
        return _country_year_data(data_dir, out or Path("build/country_year/panel.nc"),
                                  1981 if start is None else start, end, dca_start)
    if design == "pact":
        return _pact_data(data_dir, out or Path("build/institutions/panel.nc"))
    out, start = out or Path("build/panel.nc"), 1960 if start is None else start
    from data_prep.concessions import ConcessionOptions, load_concession_items
    from data_prep.panel import PanelOptions, build_panel, polity_limit, write_panel
    from data_prep.sources import RawData
    from data_prep.threat import ThreatOptions

    if not -10 <= max_polity_a <= 99:
        raise ValueError(f"--max-polity-a must lie between -10 and 10 (or 10 and above for every state), got "
                         f"{max_polity_a}")
    options = PanelOptions(
        start=start, end=end, max_polity_a=polity_limit(max_polity_a),
        threat=ThreatOptions(alliance_exclusion=alliance_exclusion, major_prie=major_prie, sscore=sscore,
                             regional_powers=regional_powers),
        concessions=ConcessionOptions(scoring=concession_scoring, item_list=concession_items,
                                      config_path=concession_config))
    load_concession_items(options.concessions)  # a broken item table fails before any data is read
    outputs = [out] + ([_check_path(out, ".md"), _check_path(out, ".csv")] if check else [])
    for path in outputs:
        check_output(path, folder=False, inputs=[data_dir, concession_config], what="panel")
    began = time.perf_counter()
    with console.status(f"Building the {start}-{end} panel from {data_dir} ..."):
        raw = RawData(data_dir)
        if check:
            raw.load("leeds_savun")  # the check's validation file fails now, not after the panel is written
        ds = build_panel(raw, options)
        write_panel(ds, out)
    rows = int(ds["in_panel"].sum())
    console.print(f"[green]Panel written[/] to {out}: {rows:,} directed dyad-years, {ds.sizes['dyad']:,} dyads, "
                  f"{int(ds['new_defense_pact'].sum())} new pacts ({time.perf_counter() - began:.1f} s).")
    if check:
        _write_check(ds, raw, options, out)


DESIGNS = ("dyad", "country_year", "pact")


def _country_year_data(data_dir: Path, out: Path, start: int, end: int, dca_start: str) -> None:
    """`coupproof data --design country_year`: build and write the country-year panel."""
    from data_prep.country_year import CountryYearOptions, build_country_year_panel
    from data_prep.panel import write_panel
    from data_prep.sources import RawData

    options = CountryYearOptions(start=start, end=end, dca_start=dca_start)
    check_output(out, folder=False, inputs=[data_dir], what="panel")
    began = time.perf_counter()
    with console.status(f"Building the {start}-{end} country-year panel from {data_dir} ..."):
        ds = build_country_year_panel(RawData(data_dir), options)
        write_panel(ds, out)
    console.print(f"[green]Panel written[/] to {out}: {int(ds['in_panel'].sum()):,} country-years, "
                  f"{ds.sizes['country']} countries, {int(ds['coup_attempt'].sum())} coup attempts "
                  f"({time.perf_counter() - began:.1f} s).")


def _pact_data(data_dir: Path, out: Path) -> None:
    """`coupproof data --design pact`: the new pacts of the default dyad panel with their institutionalization."""
    from data_prep.institutions import build_pact_panel
    from data_prep.panel import write_panel
    from data_prep.sources import RawData

    check_output(out, folder=False, inputs=[data_dir], what="panel")
    began = time.perf_counter()
    with console.status(f"Building the pact panel from {data_dir} ..."):
        ds = build_pact_panel(RawData(data_dir))
        write_panel(ds, out)
    console.print(f"[green]Panel written[/] to {out}: {ds.sizes['pact']} new pacts, "
                  f"{int(ds['sample_milinst'].sum())} with military institutionalization and every predictor "
                  f"({time.perf_counter() - began:.1f} s).")


def _check_path(out: Path, suffix: str) -> Path:
    """Where `data --check` writes its comparison: beside the panel, as <stem>_check.md / .csv."""
    return out.with_name(out.stem + "_check" + suffix)


def _write_check(ds, raw, options, out: Path) -> None:
    from data_prep.checks import compare_with_paper, format_report, sample_overview, threat_validation
    from data_prep.io import atomic_write_text

    comparison = compare_with_paper(ds)
    text = format_report(sample_overview(ds), comparison, threat_validation(raw, options))
    atomic_write_text(_check_path(out, ".md"), text)
    atomic_write_text(_check_path(out, ".csv"), comparison.to_csv(index=False))
    typer.echo(text)


@command()
def freq(
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data'.")] = Path("build/panel.nc"),
    out: Annotated[Path, typer.Option(help="Output folder for results, tables and figures.")] = Path("build/freq"),
    models: Annotated[str, typer.Option(help="Comma-separated models: m1,m2,m3,m4 (Table 1), h1,h2 (Table 2), your "
                                             "own from --specs, or 'all'.")] = "m1,m2,m3,m4,h1,h2",
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs (see README).")] = None,
) -> None:
    """Fit the models by maximum likelihood with SEs clustered on the formula's grouping (the paper's logits with
    dyad-clustered SEs and hurdle models) and compare the paper's models with the paper."""
    from data_prep.io import atomic_write_text
    from data_prep.panel import read_panel
    from inference.frequentist import save_results
    from models.specs import get_spec, load_specs
    from reports.frequentist import compare_with_paper

    from .api import Model

    known = load_specs(specs)
    chosen = [get_spec(name, known) for name in _names(models, known, "models")]
    check_output(out, folder=True, inputs=[panel, specs], what="results")
    ds = read_panel(panel)
    fitted = [Model(spec, ds) for spec in chosen]  # every spec is checked against the panel before any fitting
    results = []
    began = time.perf_counter()
    for model in fitted:
        with console.status(f"Fitting {model.spec.label} ({model.spec.name}) ..."):
            results.extend(model.fit_frequentist())
    elapsed = time.perf_counter() - began
    metadata = {"panel": str(panel), "panel_checksum": ds.attrs.get("panel_checksum"),
                "substitutes": ds.attrs.get("substitutes"), "fit_seconds": round(elapsed, 2),
                "formulas": {m.spec.name: m.spec.formula for m in fitted}}
    save_results(results, out / "fits.json", metadata)
    comparison = compare_with_paper(results)
    atomic_write_text(out / "comparison.csv", comparison.to_csv(index=False))
    atomic_write_text(out / "comparison.md", "# Our estimates against McWard & Yoon (2023)\n\n"
                      + comparison.to_markdown(index=False, floatfmt=".3f") + "\n")
    _print_comparison(comparison)
    _write_figures({m.spec.name: m.data for m in fitted}, results, out)
    console.print(f"[green]{len(chosen)} model(s) fitted[/] in {elapsed:.1f} s; results in {out}/")


def _estimate_text(value: float, se: float = float("nan")) -> str:
    """'1.234 (0.567)', '1.234', or '' for a missing value."""
    if value != value:
        return ""
    return f"{value:.3f}" if se != se else f"{value:.3f} ({se:.3f})"


def _print_comparison(comparison) -> None:
    from rich.table import Table

    table = Table(title="Ours vs McWard & Yoon (2023): estimate (clustered SE); difference in paper SEs")
    for column in ("model", "part", "term", "ours", "paper", "diff (paper SE)", "sign"):
        table.add_column(column)
    for row in comparison.itertuples():
        sign = {True: "agree", False: "[red]FLIP[/]"}.get(row.sign_agrees, "")
        table.add_row(row.model, row.part, row.term, _estimate_text(row.ours, row.our_se),
                      _estimate_text(row.paper, row.paper_se), _estimate_text(row.diff_in_paper_se), sign)
    Console(width=max(Console().width, 130)).print(table)


def _write_figures(datasets: dict, results, out: Path) -> None:
    """The paper's Figure 1 (Models 2 and 4) and Figure 3 (Model 4), where those models were fitted."""
    from data_prep.io import atomic_write_text
    from reports.posterior_plots import save
    from reports.frequentist import (marginal_effect_curve, plot_marginal_effects, plot_predicted_probabilities,
                                     predicted_probability_curve)

    fits = {fit.model: fit for fit in results if fit.part == "logit"}
    effects = [marginal_effect_curve(fits[name], datasets[name], moderator)
               for name, moderator in (("m2", "threat_a"), ("m4", "threat_b")) if name in fits]
    if effects:
        import pandas as pd

        curves = pd.concat(effects, ignore_index=True)
        atomic_write_text(out / "figure1_marginal_effects.csv", curves.to_csv(index=False))
        save(plot_marginal_effects(curves), out / "figure1_marginal_effects.png")
    if "m4" in fits:
        curves = predicted_probability_curve(fits["m4"], datasets["m4"], "threat_b")
        atomic_write_text(out / "figure3_predicted_probabilities.csv", curves.to_csv(index=False))
        save(plot_predicted_probabilities(curves), out / "figure3_predicted_probabilities.png")



@command("fit")
def fit_command(
    model: Annotated[str, typer.Option(help="Model name(s), comma-separated: m1-m4 (Table 1), h1, h2 (Table 2), "
                                            "your own from --specs, or 'all' (the paper's six).")] = "m4",
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data'.")] = Path("build/panel.nc"),
    out: Annotated[Path, typer.Option(help="Folder for the saved fits (netCDF).")] = Path("build/fits"),
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs (see README).")] = None,
    sampler: Annotated[str, typer.Option(help="NUTS implementation: nutpie|numpyro|pymc.")] = "nutpie",
    method: Annotated[str | None, typer.Option(help="marginal (group intercepts integrated out) | plain "
                                                    "(non-centred); default: the spec's.")] = None,
    draws: Annotated[int, typer.Option(help="Draws per chain after tuning.")] = 1000,
    tune: Annotated[int, typer.Option(help="Tuning iterations per chain.")] = 1000,
    chains: Annotated[int, typer.Option(help="Number of chains.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 20231,
    target_accept: Annotated[float, typer.Option(help="NUTS target acceptance rate.")] = 0.85,
    adaptation: Annotated[str, typer.Option(help="nutpie mass matrix: low_rank (learns correlations) | diag.")]
    = "low_rank",
    priors: Annotated[Path | None, typer.Option(help="Prior file (TOML) or a packaged set: regularising, wide; "
                                                    "default models/priors/default.toml.")] = None,
    loglik_every: Annotated[int, typer.Option(help="Keep the group log-likelihood of every k-th draw (LOO).")] = 2,
    strict: Annotated[bool, typer.Option(help="Exit non-zero if any fit fails its diagnostics.")] = False,
    ess_min: Annotated[int, typer.Option(help="Bulk and tail ESS the diagnostics gate asks of every population "
                                              "parameter (inference.diagnostics.ESS_MIN).")] = 400,
    retries: Annotated[int, typer.Option(help="Refit a fit that fails its diagnostics at twice the draws and "
                                              "tuning, up to this many times (0: save it flagged at once).")] = 0,
) -> None:
    """Fit Bayesian models (formulas with group intercepts) and save them with diagnostics."""
    from data_prep.panel import read_panel
    from inference.fitting import SamplerSettings
    from models.priors import load_priors
    from models.specs import PAPER_MODELS, get_spec, load_specs

    from .api import Model

    known = load_specs(specs)
    chosen = [get_spec(name, known) for name in _names(model, PAPER_MODELS)]
    SamplerSettings(sampler=sampler, draws=draws, tune=tune, chains=chains, seed=seed, target_accept=target_accept,
                    adaptation=adaptation, ess_min=ess_min)  # checks every setting now
    _at_least(loglik_every, 1, "loglik-every")
    _at_least(retries, 0, "retries")
    prior_set = load_priors(priors)
    check_output(out, folder=True, inputs=[panel, specs, priors], what="fits")
    ds = read_panel(panel)
    models = [Model(spec, ds, priors=prior_set, method=method, panel_path=panel) for spec in chosen]  # all checked
    paths = {m.spec.name: out / f"{m.spec.name}_{m.method}.nc" for m in models}
    for path in paths.values():
        check_output(path, folder=False, inputs=[panel, specs, priors], what="fit")
    failed = []
    for m in models:
        data = m.data
        groups = f"{data.n_groups:,} groups ({m.spec.group}), " if m.spec.group else ""
        console.print(f"[bold]Fitting {m.spec.label} ({m.spec.name})[/]: {len(data.y):,} rows, {groups}"
                      f"{int((data.y > 0).sum())} events, family {m.spec.family}, method {m.method}, {sampler}")
        for attempt in range(retries + 1):
            length = 2**attempt
            result = m.fit(draws=length * draws, tune=length * tune, chains=chains, sampler=sampler, seed=seed,
                           target_accept=target_accept, adaptation=adaptation, loglik_every=loglik_every,
                           ess_min=ess_min)
            if result.diagnostics.passed or attempt == retries:
                break
            console.print(f"[yellow]Refitting {m.spec.name} at {2 * length * draws} draws and {2 * length * tune} "
                          "tuning iterations per chain[/] (--retries)")
        console.print(f"saved {result.save(paths[m.spec.name])}")
        if not result.diagnostics.passed:
            failed.append(m.spec.name)
    if failed and strict:
        raise typer.Exit(code=1)


@command()
def report(
    fits: Annotated[Path, typer.Option(help="Folder of saved fits ('coupproof fit').")] = Path("build/fits"),
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data'.")] = Path("build/panel.nc"),
    freq: Annotated[Path, typer.Option(help="Frequentist results ('coupproof freq').")] = Path("build/freq/fits.json"),
    out: Annotated[Path, typer.Option(help="Output folder: report.html, figures/, tables/.")] = Path("build/report"),
    model: Annotated[str, typer.Option(help="Comma-separated models, or 'all' (the paper's six).")] = "all",
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs.")] = None,
    ppc_draws: Annotated[int, typer.Option(help="Posterior draws for the predictive checks.")] = 200,
    sensitivity: Annotated[Path, typer.Option(help="Results of 'coupproof sensitivity', added when present.")]
    = Path("build/sensitivity"),
    robustness: Annotated[Path, typer.Option(help="Results of 'coupproof robustness', added when present.")]
    = Path("build/robustness"),
    validate: Annotated[Path, typer.Option(help="Results of 'coupproof validate', added when present.")]
    = Path("build/validate"),
    title: Annotated[str, typer.Option(help="The report's title.")] = "Coup-proofing and alliances: Bayesian report",
) -> None:
    """Write the HTML report of the saved Bayesian fits (never refits)."""
    from data_prep.panel import read_panel
    from models.specs import PAPER_MODELS, SpecError, load_specs
    from reports.bayes_report import build_report

    known = load_specs(specs)
    names = _names(model, PAPER_MODELS)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SpecError(f"unknown model(s) {', '.join(unknown)}; known models: {', '.join(known)}")
    _at_least(ppc_draws, 1, "ppc-draws")
    check_output(out, folder=True, inputs=[fits, panel, freq, specs, sensitivity, robustness, validate],
                 what="report")
    read_panel(panel)  # a missing or outdated panel fails here, before any work
    with console.status("Writing the report ..."):
        path = build_report(fits, panel, freq, out, names, known, ppc_draws, sensitivity, robustness, title,
                            validate)
    console.print(f"[green]Report written[/] to {path} (figures and tables beside it)")


@command()
def sensitivity(
    model: Annotated[str, typer.Option(help="Model(s) to refit under every prior set, comma-separated.")] = "m4",
    prior_sets: Annotated[Path | None, typer.Option(help="Prior sets (TOML); default models/priors/sensitivity.toml.")]
    = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (tcp://host:8786), or 'serial'; "
                                                       "default: a LocalCluster on this machine.")] = None,
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data'.")] = Path("build/panel.nc"),
    fits: Annotated[Path, typer.Option(help="Saved fits to power-scale ('coupproof fit').")] = Path("build/fits"),
    out: Annotated[Path, typer.Option(help="Output folder (tables, figures, cache/).")] = Path("build/sensitivity"),
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs.")] = None,
    draws: Annotated[int, typer.Option(help="Draws per chain of each refit.")] = 1000,
    tune: Annotated[int, typer.Option(help="Tuning iterations per chain of each refit.")] = 300,
    chains: Annotated[int, typer.Option(help="Chains per refit.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed (the same for every prior set).")] = 20231,
    refits: Annotated[bool, typer.Option("--refits/--no-refits", help="Refit --model under the prior sets; "
                                         "--no-refits: power-scaling of the saved fits only (seconds).")] = True,
) -> None:
    """Prior sensitivity: power-scaling of the saved fits, and refits under alternative prior sets (on Dask)."""
    import pandas as pd

    from data_prep.io import atomic_write_text
    from data_prep.panel import read_panel
    from inference.fitting import SamplerSettings, ensure_log_densities
    from inference.refits import Refit, check_builds, check_scheduler, load_prior_sets, run_refits
    from inference.store import load_fit
    from models.specs import get_spec, load_specs
    from reports import prior_sensitivity as ps
    from reports.bayes_report import fit_path
    from reports.posterior_plots import save, save_arviz

    from .api import Model

    # everything is checked before any fitting
    sets = load_prior_sets(prior_sets)
    known = load_specs(specs)
    chosen = [get_spec(name, known) for name in _names(model, known)] if refits else []
    settings = SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed)
    check_output(out, folder=True, inputs=[panel, fits, specs, prior_sets], what="sensitivity")
    ds = read_panel(panel)
    datasets = {spec.name: Model(spec, ds).data for spec in chosen}
    refits = [Refit(set_name, priors, settings) for set_name, priors in sets.items()]
    for data in datasets.values():
        for refit in refits:
            check_builds(data, refit)
    check_scheduler(scheduler)
    paths = {name: fit_path(fits, name, spec) for name, spec in known.items()}  # marginal or plain, as saved
    saved = {name: load_fit(path) for name, path in paths.items()
             if path.exists()}  # a damaged saved fit fails here, not after the refits
    checksum = ds.attrs.get("panel_checksum", "")
    tables = []
    for name, tree in saved.items():
        data = Model.from_fit(tree, ds).data  # the fit's own spec, which a spec file may since have changed
        with console.status(f"Power-scaling {name} ..."):
            tables.append(ps.power_scaling(ensure_log_densities(tree, data)))
    if tables:
        scaling = pd.concat(tables, ignore_index=True)
        atomic_write_text(out / "power_scaling.csv", scaling.to_csv(index=False))
        flagged = scaling[scaling["diagnosis"] != "\N{CHECK MARK}"]
        console.print(f"Power-scaling of {len(tables)} fit(s): {len(flagged)} parameter(s) flagged "
                      f"(prior-data conflict or weak likelihood); see {out / 'power_scaling.csv'}")
    else:
        console.print(f"[yellow]No saved fits in {fits} to power-scale; run 'make fit' first.[/]")
    for name, data in datasets.items():
        console.print(f"[bold]Refitting {name} under {len(refits)} prior sets[/] "
                      f"({'serial' if scheduler == 'serial' else scheduler or 'Dask LocalCluster'})")

        def report(set_name: str, cached: bool) -> None:
            console.print(f"  {set_name}: {'from cache' if cached else 'fitted'}")

        paths = run_refits(data, refits, out / "cache", checksum, scheduler, report)
        refitted = {set_name: load_fit(path) for set_name, path in paths.items()}
        table = ps.prior_set_table(refitted)
        curves = ps.effect_curves_by_set(refitted, data)
        atomic_write_text(out / f"prior_sets_{name}.csv", table.to_csv(index=False))
        atomic_write_text(out / f"prior_sets_{name}_effects.csv", curves.to_csv(index=False))
        save(ps.plot_forest(table), out / f"prior_sets_{name}_forest.png")
        save(ps.plot_effects_by_set(curves), out / f"prior_sets_{name}_effects.png")
        save_arviz(ps.plot_power_scaling(refitted["default"]), out / f"power_scaling_{name}.png")
        _print_prior_sets(table)
    console.print(f"[green]Sensitivity results[/] in {out}/ (the report adds them when present)")


@command()
def priors(
    model: Annotated[str, typer.Option(help="Model(s) to compare, comma-separated, or 'all' (the paper's six).")]
    = "all",
    sets: Annotated[str, typer.Option(help="Prior sets compared with the default, comma-separated: packaged names "
                                           "(regularising, wide) or prior files; 'wide' is the reference.")]
    = "regularising,wide",
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data'.")] = Path("build/panel.nc"),
    fits: Annotated[Path, typer.Option(help="Saved fits under the default priors ('coupproof fit'); a model "
                                            "without one, or fitted under other priors, is refitted.")]
    = Path("build/fits"),
    freq: Annotated[Path, typer.Option(help="Frequentist results ('coupproof freq'): the standard errors.")]
    = Path("build/freq/fits.json"),
    out: Annotated[Path, typer.Option(help="Output folder (prior_defaults.csv/.md/.png, cache/).")]
    = Path("build/sensitivity"),
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs.")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'serial'; default: a LocalCluster.")]
    = None,
    draws: Annotated[int, typer.Option(help="Draws per chain of each refit.")] = 600,
    tune: Annotated[int, typer.Option(help="Tuning iterations per chain of each refit.")] = 300,
    chains: Annotated[int, typer.Option(help="Chains per refit.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed of every refit.")] = 20231,
    retries: Annotated[int, typer.Option(help="Refit a fit that fails its diagnostics at twice the length, up to "
                                              "this many times (0: flag it at once).")] = 1,
) -> None:
    """Do the default priors let the data speak? Each model's interaction under the default priors, the
    regularising set and the wide set, and power-scaling of the default fits (README, "Priors")."""
    import pandas as pd

    from data_prep.io import atomic_write_text
    from data_prep.panel import read_panel
    from inference.fitting import SamplerSettings, ensure_log_densities
    from inference.frequentist import load_results
    from inference.refits import Refit, check_builds, check_scheduler, run_fits
    from inference.store import fit_priors, load_fit
    from models.priors import PriorError, load_priors, priors_config
    from models.specs import PAPER_MODELS, get_spec, load_specs
    from reports import prior_defaults as pd_
    from reports import prior_sensitivity as ps
    from reports.bayes_report import fit_path
    from reports.posterior_plots import save

    from .api import Model

    # everything is checked before any fitting
    items = _names(sets, [], "sets", "prior set")
    labels = {Path(item).stem if item.endswith(".toml") else item: item for item in items}  # a file's set: its stem
    if pd_.REFERENCE not in labels:
        raise PriorError(f"--sets must include '{pd_.REFERENCE}', the reference the defaults are measured against")
    if pd_.DEFAULT in labels:
        raise PriorError(f"--sets: '{pd_.DEFAULT}' is always compared; name the other sets")
    prior_sets = {pd_.DEFAULT: load_priors(), **{label: load_priors(item) for label, item in labels.items()}}
    known = load_specs(specs)
    chosen = [get_spec(name, known) for name in _names(model, PAPER_MODELS)]
    settings = SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed)
    _at_least(retries, 0, "retries")
    check_output(out, folder=True, inputs=[panel, fits, freq, specs], what="prior comparison")
    freq_results, _metadata = load_results(freq)
    ds = read_panel(panel)
    checksum = ds.attrs.get("panel_checksum", "")
    datasets = {spec.name: Model(spec, ds).data for spec in chosen}
    saved = {}  # the default fits in --fits, where made under today's default priors from this panel
    for spec in chosen:
        path = fit_path(fits, spec.name, spec)
        if path.is_file():
            tree = load_fit(path)
            if (priors_config(fit_priors(tree)) == priors_config(prior_sets[pd_.DEFAULT])
                    and tree.attrs.get("panel_checksum") == checksum):
                saved[spec.name] = tree
    jobs = [(datasets[spec.name], Refit(name, priors, settings)) for spec in chosen
            for name, priors in prior_sets.items() if name != pd_.DEFAULT or spec.name not in saved]
    for data, refit in jobs:
        check_builds(data, refit)
    check_scheduler(scheduler)
    refitted = dict.fromkeys(refit.prior_set for _, refit in jobs)
    console.print(f"[bold]{len(jobs)} refit(s)[/] of {', '.join(datasets)} under {', '.join(refitted) or 'no set'} "
                  f"({'serial' if scheduler == 'serial' else scheduler or 'Dask LocalCluster'}; cached in "
                  f"{out / 'cache'}); default fits read from {fits}: {', '.join(saved) or 'none'}")
    paths = run_fits(jobs, out / "cache", checksum, scheduler, lambda job, cached: console.print(
        f"  {job[0].spec.name} under {job[1].prior_set}: {'from cache' if cached else 'fitted'}"), retries=retries)
    by_model: dict[str, dict] = {name: {} for name in datasets}
    for (data, refit), path in zip(jobs, paths):
        by_model[data.spec.name][refit.prior_set] = load_fit(path)
    rows = []
    for name, data in datasets.items():
        fitted = {set_name: (saved[name] if set_name == pd_.DEFAULT and name in saved else by_model[name][set_name])
                  for set_name in prior_sets}
        with console.status(f"Power-scaling {name} ..."):
            scaling = ps.power_scaling(ensure_log_densities(fitted[pd_.DEFAULT], data))
        rows += pd_.interaction_rows(fitted, freq_results, scaling)
        by_model[name] = fitted
    table = pd.DataFrame(rows)
    if table.empty:
        raise PriorError(f"none of {', '.join(datasets)} has a two-way interaction to compare")
    atomic_write_text(out / "prior_defaults.csv", table.to_csv(index=False))
    atomic_write_text(out / "prior_defaults.md", "# The key interactions under the default, regularising and wide "
                      "priors\n\n" + table.to_markdown(index=False, floatfmt=".3f") + "\n")
    save(pd_.plot_shifts(table, by_model), out / "prior_defaults.png")
    _print_prior_defaults(table)
    met = int(table["meets_criterion"].sum())
    console.print(f"{met} of {len(table)} interaction(s) meet the criterion (within {pd_.TOLERANCE} frequentist SE "
                  f"of the wide set, nothing flagged by power-scaling); results in {out}/")


@command()
def robustness(
    variants: Annotated[str, typer.Option(help="Comma-separated variants of models/robustness.toml, or 'all'.")] = "all",
    variant_file: Annotated[Path | None, typer.Option(help="Your own variant file (TOML, the packaged one's form).")]
    = None,
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data' (the main design).")]
    = Path("build/panel.nc"),
    data_dir: DataDir = DEFAULT_DATA_DIR,
    out: Annotated[Path, typer.Option(help="Output folder: a table per variant, estimates, key findings, forest plot.")]
    = Path("build/robustness"),
    bayes: Annotated[bool, typer.Option("--bayes/--no-bayes", help="Also fit the Bayesian versions (on Dask, cached).")]
    = True,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'serial'; default: a LocalCluster.")]
    = None,
    draws: Annotated[int, typer.Option(help="Draws per chain of each Bayesian fit.")] = 600,
    tune: Annotated[int, typer.Option(help="Tuning iterations per chain of each Bayesian fit.")] = 300,
    chains: Annotated[int, typer.Option(help="Chains per Bayesian fit.")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed of every Bayesian fit.")] = 20231,
    retries: Annotated[int, typer.Option(help="Refit a Bayesian fit that fails its diagnostics at twice the length, "
                                              "up to this many times (0: flag it at once).")] = 1,
    fits: Annotated[Path, typer.Option(help="The main models' saved fits ('coupproof fit'), shown as the reference "
                                            "where present.")] = Path("build/fits"),
) -> None:
    """The paper's robustness checks (section 5 and its appendix): every variant of Table 1 Models 2 and 4 (and of
    Table 2 for the Heckman models), fitted as the paper did, with the key findings side by side."""
    import json

    import pandas as pd

    from data_prep.io import atomic_write_text
    from data_prep.panel import PanelOptions, build_panel, polity_limit, read_panel
    from data_prep.sources import RawData
    from inference.fitting import SamplerSettings
    from inference.frequentist import fit_data
    from inference.refits import Refit, check_scheduler, run_fits
    from inference.robustness import bayes_jobs, fit_variant, prepare_variant
    from inference.store import load_fit, passed_diagnostics
    from models.priors import load_priors
    from models.robustness import get_variants, load_variants
    from reports import robustness as rb
    from reports.posterior_plots import save

    from .api import Model

    chosen = get_variants(variants, load_variants(variant_file))
    _at_least(retries, 0, "retries")
    check_output(out, folder=True, inputs=[panel, variant_file, data_dir, fits], what="robustness results")
    base = read_panel(panel)
    built: dict[tuple, object] = {}

    def build(options: dict):
        key = tuple(sorted(options.items()))
        if key not in built:
            values = {k: polity_limit(v) if k == "max_polity_a" else v for k, v in options.items()}
            with console.status(f"Building a panel with {options} ..."):
                built[key] = build_panel(RawData(data_dir), PanelOptions(**values))
        return built[key]

    prepared = {v.name: prepare_variant(v, base, build) for v in chosen}  # every variant checked before fitting
    jobs: list = []
    if bayes:
        refit = Refit("default", load_priors(), SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed))
        jobs = [(v.name, job) for v in chosen for job in bayes_jobs(v, prepared[v.name][0], refit)]
        check_scheduler(scheduler)
    began = time.perf_counter()
    main = [r for name in ("m2", "m4", "h1", "h2") for r in fit_data(Model(name, base).data)]
    tables, estimates = {"main": main}, [rb.estimate_rows("main", main)]
    for name in ("m2", "m4", "h1", "h2"):  # the main models' Bayesian fits, where made (read, never refitted)
        if (fits / f"{name}_marginal.nc").is_file():
            estimates.append(rb.posterior_rows("main", load_fit(fits / f"{name}_marginal.nc")))
    for variant in chosen:
        with console.status(f"Fitting {variant.label} ({variant.name}) ..."):
            results = fit_variant(variant, *prepared[variant.name])
        tables[variant.name] = results
        estimates.append(rb.estimate_rows(variant.name, results))
    frequentist_seconds = time.perf_counter() - began
    if jobs:
        console.print(f"[bold]Bayesian fits of {len(jobs)} variant model(s)[/] "
                      f"({'serial' if scheduler == 'serial' else scheduler or 'Dask LocalCluster'}; cached in "
                      f"{out / 'cache'})")
        paths = run_fits([job for _, job in jobs], out / "cache", str(base.attrs.get("panel_checksum", "")),
                         scheduler, lambda job, cached: console.print(
                             f"  {job[0].spec.name} ({job[1].settings.draws} draws): "
                             f"{'from cache' if cached else 'fitted'}"), retries=retries)
        for (variant_name, _job), path in zip(jobs, paths):
            fitted = load_fit(path)
            if not passed_diagnostics(fitted):
                console.print(f"[bold white on red] FIT FAILED ITS DIAGNOSTICS [/] {fitted.attrs['model']}: "
                              "flagged in the tables", soft_wrap=True)
            estimates.append(rb.posterior_rows(variant_name, fitted))
    for name, results in tables.items():
        layout = rb.paper_layout(results)
        atomic_write_text(out / f"{name}.csv", layout.to_csv())
        atomic_write_text(out / f"{name}.md", f"# {name}\n\n" + layout.to_markdown() + "\n")
    long = pd.concat(estimates, ignore_index=True)
    findings = rb.key_findings(long)
    atomic_write_text(out / "estimates.csv", long.to_csv(index=False))
    atomic_write_text(out / "key_findings.csv", findings.to_csv(index=False))
    atomic_write_text(out / "key_findings.md", "# Key interactions across the robustness variants\n\n"
                      + findings.to_markdown(index=False, floatfmt=".3f") + "\n")
    save(rb.plot_key_interactions(findings[findings["model"].map(rb.base_model).isin(["m2", "m4"])]),
         out / "forest_key_interactions.png")
    _print_findings(findings)
    timing = {"variants": [v.name for v in chosen], "frequentist_seconds": round(frequentist_seconds, 1),
              "bayesian_fits": len(jobs), "bayesian_seconds": round(time.perf_counter() - began - frequentist_seconds, 1),
              "cpus": os.cpu_count(), "scheduler": scheduler or "LocalCluster"}
    atomic_write_text(out / "timing.json", json.dumps(timing, indent=1) + "\n")
    console.print(f"[green]{len(chosen)} variant(s) fitted[/] in {time.perf_counter() - began:.1f} s "
                  f"(frequentist {frequentist_seconds:.1f} s); results in {out}/")


@command()
def validate(
    cases: Annotated[str, typer.Option(help="Calibration cases to run, comma-separated, or 'all'.")] = "all",
    config: Annotated[Path | None, typer.Option(help="Calibration cases (TOML); default models/calibration.toml.")]
    = None,
    panel: Annotated[Path, typer.Option(help="Dyad panel ('coupproof data'): the Model 4 design.")]
    = Path("build/panel.nc"),
    country_year_panel: Annotated[Path, typer.Option(help="Country-year panel ('coupproof data --design "
                                                          "country_year'), for country cases.")]
    = Path("build/country_year/panel.nc"),
    fits: Annotated[Path, typer.Option(help="Saved fits: recovery cases fix the truth at their posterior mean.")]
    = Path("build/fits"),
    out: Annotated[Path, typer.Option(help="Output folder (tables, PIT-ECDF plots, cache/).")] = Path("build/validate"),
    simulations: Annotated[int | None, typer.Option(help="Simulations per case (default: each case's own).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (tcp://host:8786), or 'serial'; "
                                                       "default: a LocalCluster on this machine.")] = None,
    mle: Annotated[str, typer.Option(help="Model whose marginal MLE the kernel and an independent reference "
                                          "compute on the dyad panel; 'none' to skip.")] = "m4",
) -> None:
    """Simulation-based calibration of every model family, recovery at a fit's posterior mean, and the kernel's
    marginal MLE against an independent reference (build/validate/; the report adds them when present)."""
    import time as clock
    from dataclasses import replace

    import pandas as pd
    from rich.markup import escape
    from rich.progress import Progress

    from data_prep.panel import panel_to_frame, read_panel
    from inference import calibration as cal
    from inference.refits import check_scheduler
    from inference.store import load_fit
    from models.specs import get_spec, load_specs
    from reports import calibration as rc
    from reports.bayes_report import fit_path

    # everything is checked before any simulation
    known = cal.load_cases(config)
    names = _names(cases, known, "cases", "case")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise cal.CalibrationError(f"unknown calibration case {unknown[0]!r}; known cases: {', '.join(known)}")
    chosen = [known[n] for n in names]
    if simulations is not None:
        _at_least(simulations, 2, "simulations")
        chosen = [replace(c, run=replace(c.run, simulations=simulations)) for c in chosen]
    check_output(out, folder=True, inputs=[panel, country_year_panel, fits, config], what="calibration")
    paths = {"dyad": panel, "country_year": country_year_panel}
    panels = {design: read_panel(paths[design]) for design in dict.fromkeys(c.design for c in chosen)}
    if mle != "none":
        panels.setdefault("dyad", read_panel(panel))
    frames = {design: panel_to_frame(ds) for design, ds in panels.items()}
    specs = {c.name: load_specs(c.specs or None) for c in chosen}
    for c in chosen:
        cal.case_spec(c, specs[c.name])
    truths = {c.name: load_fit(fit_path(fits, c.truth_fit, get_spec(c.truth_fit, specs[c.name])))
              for c in chosen if c.truth == "posterior_mean"}
    check_scheduler(scheduler)
    began = clock.perf_counter()
    families, recovery = [], []
    for c in chosen:
        ds = panels[c.design]
        prepared = cal.prepare_case(c, frames[c.design], str(ds.attrs.get("panel_checksum", "")),
                                    truths.get(c.name), specs[c.name])
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"{c.name}: {c.run.simulations} simulations ({len(prepared.data.y):,} rows)",
                                     total=c.run.simulations)
            records = cal.run_case(prepared, out / "cache", scheduler, lambda i, cached: progress.advance(task))
        sampler = cal.sampler_summary(records)
        if c.truth == "prior":
            tests = cal.uniformity(records, c.run.alpha)
            rc.write_case(out, c.name, cal.pit_dataset(records), tests, c.label)
            families.append(rc.family_row(c.name, c.label, tests, sampler))
            row = families[-1]
            colour = "green" if row["verdict"] == "calibrated" else "bold red"
            console.print(f"[{colour}]{c.name}[/]: {row['parameters passing']} quantities pass; worst "
                          f"{escape(row['worst parameter'])} (Holm p = {row['worst p (Holm)']:.3g}); "
                          f"{sampler['seconds_per_fit']:.1f} s per fit")
        else:
            table = cal.coverage(records).assign(case=c.name)
            recovery.append(table)
            console.print(f"{c.name}: 94% intervals covered the truth in "
                          f"{table['coverage_94'].mean():.0%} of simulations on average")
    mle_table = None
    if mle != "none":
        from inference.marginal_mle import compare_mle
        from models.design import model_data

        with console.status(f"Marginal MLE of {mle}: kernel and adaptive Gauss-Hermite reference ..."):
            mle_table = compare_mle(model_data(frames["dyad"], get_spec(mle)))
        console.print(f"Marginal MLE of {mle}: largest difference "
                      f"{mle_table['difference_in_se'].abs().max():.2g} kernel SEs")
    design = "dyad" if "dyad" in panels else next(iter(panels))  # the panel the tables describe
    meta = {"cases": [c.name for c in chosen], "settings": {c.name: vars(c.run) for c in chosen},
            "panel": str(paths[design]), "panel_checksum": panels[design].attrs.get("panel_checksum", ""),
            "substitutes": panels[design].attrs.get("substitutes", ""),
            "seconds": round(clock.perf_counter() - began, 1)}
    families_table = pd.DataFrame(families, columns=rc.FAMILY_COLUMNS)
    rc.write_tables(out, families_table, pd.concat(recovery, ignore_index=True) if recovery else None, mle_table,
                    meta)
    if families:
        console.print(escape(families_table.to_markdown(index=False, floatfmt=".3g")), soft_wrap=True)
    console.print(f"[green]Calibration results[/] in {out}/ ({meta['seconds']:.0f} s; the report adds them)")


def _print_findings(findings) -> None:
    import pandas as pd
    from rich.table import Table

    shown = Table(title="Key interactions: as in the main table?")
    for column in ("variant", "model", "term", "estimate (SE)", "p", "posterior mean (sd)", "as in main table"):
        shown.add_column(column, justify="left" if column in ("variant", "model", "term") else "right")
    for _, row in findings.iterrows():
        shown.add_row(row["variant"], row["model"], row["term"],
                      _estimate_text(row.get("freq_estimate", float("nan")), row.get("freq_se", float("nan"))),
                      "" if pd.isna(row.get("freq_p")) else f"{row['freq_p']:.3f}",
                      _estimate_text(row.get("bayes_mean", float("nan")), row.get("bayes_sd", float("nan"))),
                      str(row["as_in_main_table"]))
    Console(width=max(Console().width, 130)).print(shown)


def _print_prior_sets(table) -> None:
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


def _print_prior_defaults(table) -> None:
    from rich.table import Table

    sets = [c.removeprefix("mean_") for c in table.columns if c.startswith("mean_")]
    shown = Table(title="Key interactions by prior set (shift from the wide set in frequentist SEs)")
    for column in ("model", "part", "freq (SE)", *sets, "default shift", "flagged", "meets"):
        shown.add_column(column, justify="left" if column in ("model", "part", "flagged") else "right")
    for _, row in table.iterrows():
        shown.add_row(row["model"], row["part"], _estimate_text(row["freq_estimate"], row["freq_se"]),
                      *(f"{row[f'mean_{name}']:.2f}" for name in sets), f"{row['shift_default_se']:+.2f}",
                      row["flagged_under_default"], "yes" if row["meets_criterion"] else "NO")
    Console(width=max(Console().width, 130)).print(shown)


if __name__ == "__main__":
    app()
