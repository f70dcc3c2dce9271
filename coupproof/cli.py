"""`coupproof` command line: one subcommand per stage of the workflow (data, freq, fit, report, sensitivity, priors,
robustness, validate, results). Each command parses its options into the stage's settings, checks its output
paths, calls the stage (`coupproof.stages`), prints what it found and writes the result.

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
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from data_prep.io import check_output
from data_prep.sources import DATA_DIR_ENV, DEFAULT_DATA_DIR
from inference.diagnostics import ESS_MIN
from inference.settings import DEFAULT_SEED, SamplerSettings

from .defaults import (BUILD, COUNTRY_YEAR_PANEL, FITS, FREQ, PANEL, PRIOR_CHECK, REPORT, ROBUSTNESS, SENSITIVITY,
                       VALIDATE)
from .stages.base import Progress, names
from .stages.calibration import CalibrationSettings
from .stages.fit import FitSettings
from .stages.frequentist import PAPER_MODELS
from .stages.panel import PanelSettings
from .stages.prior_check import PriorCheckSettings
from .stages.priors import COMPARE_SAMPLER, PriorComparisonSettings
from .stages.report import ReportSettings
from .stages.robustness import ROBUST_SAMPLER, RobustnessSettings
from .stages.sensitivity import REFIT_SAMPLER

console = Console(stderr=True)
MAX_MESSAGE = 600  # characters of an error message shown; a longer one (a huge value echoed) is cut in the middle


def _shorten(message: str) -> str:
    """A message of at most MAX_MESSAGE characters: its start and end, with how much was left out."""
    if len(message) <= MAX_MESSAGE:
        return message
    keep = MAX_MESSAGE // 2
    return f"{message[:keep]} ... ({len(message) - 2 * keep} characters left out) ... {message[-keep:]}"


class OneLineUsageErrors(TyperGroup):
    """Usage errors (an unknown option, a missing or malformed value) as one line naming the command's --help, not
    a boxed panel; exit 2 as click's."""

    def main(self, *args, **kwargs):
        kwargs.pop("standalone_mode", None)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.Abort:
            console.print("[bold red]aborted[/]")
            sys.exit(1)
        except typer.TyperException as exc:  # click's exceptions, as Typer vendors them
            if type(exc).__name__ == "NoArgsIsHelpError":  # `coupproof` alone: the help
                exc.show()
                sys.exit(exc.exit_code)
            ctx = getattr(exc, "ctx", None)
            see = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            console.print(f"[bold red]error:[/] {escape(_shorten(' '.join(exc.format_message().split())))}{see}",
                          highlight=False, soft_wrap=True)
            sys.exit(getattr(exc, "exit_code", 2))
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(add_completion=False, no_args_is_help=True, cls=OneLineUsageErrors,
                  help="Bayesian workbench for coup-proofing and alliances (McWard & Yoon 2023 and extensions).")

DataDir = Annotated[Path, typer.Option(envvar=DATA_DIR_ENV, help="Raw data directory (one folder per source).")]
DEBUG_ENV = "COUPPROOF_DEBUG"  # set to 1 to see the traceback of an unexpected error


class Interrupted(BaseException):
    """Raised by the signal handlers, so that samplers that catch KeyboardInterrupt to return partial draws stop
    instead, and every atomic write removes its temporary file on the way out."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {escape(_shorten(message))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _describe(exc: BaseException) -> str:
    """One line for a user-facing error; a file-system error names its file."""
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return " ".join(str(exc).split()) or type(exc).__name__


_received: list[int] = []  # signals received during the running command
_standalone: list[bool] = []  # set by main(): this process is the `coupproof` command (not a CliRunner in a test)
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
                if _standalone:  # end before the interrupted frames (a sampler's compiled model) are freed: see main
                    _finished.set()
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(128 + signum)
                raise typer.Exit(code=128 + signum) from None
            if isinstance(exc, (ValueError, OSError)) or (isinstance(exc, RuntimeError)
                                                          and str(exc).startswith("Symlink loop")):
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


def _progress() -> Progress:
    """The stages' voice on the command line: rich on stderr."""
    return Progress(console=console)


@app.callback()
def main() -> None:
    """Build the dyad panel, fit the models, write the reports."""


@command()
def data(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    out: Annotated[Path | None, typer.Option(help="Where to write the panel (netCDF); default build/panel.nc, "
                                             "build/country_year/panel.nc for --design country_year, "
                                             "build/institutions/panel.nc for --design pact.")] = None,
    design: Annotated[str, typer.Option(help="dyad (McWard & Yoon: directed dyad-years) | country_year (Rahman "
                                             "2026: DCAs and coups) | pact (new pacts and their institutionalization, "
                                             "Kim & Woods 2022); the threat and concession options are the dyad's."
                                        )] = PanelSettings.design,
    start: Annotated[int | None, typer.Option(help="First year of the panel (default 1960; country_year 1981).")]
    = None,
    end: Annotated[int, typer.Option(help="Last year of the panel.")] = PanelSettings.end,
    dca_start: Annotated[str, typer.Option(help="country_year: a DCA is in force from its signature | "
                                                "entry_into_force year (where DCAD has one).")] = PanelSettings.dca_start,
    max_polity_a: Annotated[int, typer.Option(help="State A is a nondemocracy: Polity2 at most this (99 = all).")]
    = PanelSettings.max_polity_a,
    alliance_exclusion: Annotated[str, typer.Option(help="Threat: alliance types that make a state a non-adversary: "
                                                         "four|five.")] = PanelSettings.alliance_exclusion,
    major_prie: Annotated[str, typer.Option(help="Threat: a major power's relevant environment: "
                                                 "whole_system|contig_majors.")] = PanelSettings.major_prie,
    sscore: Annotated[str, typer.Option(help="Threat: S-score variant: unweighted|weighted.")] = PanelSettings.sscore,
    regional_powers: Annotated[str, typer.Option(help="Threat: add Maoz regional powers to the environment: "
                                                      "off|maoz.")] = PanelSettings.regional_powers,
    concession_scoring: Annotated[str, typer.Option(help="Concessions: binary|ordinal_sum.")]
    = PanelSettings.concession_scoring,
    concession_items: Annotated[str, typer.Option(help="Concessions: item list broad|autonomy|alley.")]
    = PanelSettings.concession_items,
    concession_config: Annotated[Path | None, typer.Option(help="Concessions: your own item table (TOML).")] = None,
    check: Annotated[bool, typer.Option(help="Compare the panel with the paper and save the comparison.")] = False,
) -> None:
    """Build a study's panel from the raw sources and save it as netCDF: the directed dyad-years (default), the
    country-years (--design country_year) or the new pacts (--design pact)."""
    from .stages.panel import PanelResult, build_panel

    settings = PanelSettings(
        design=design, data_dir=data_dir, start=start, end=end, max_polity_a=max_polity_a,
        alliance_exclusion=alliance_exclusion, major_prie=major_prie, sscore=sscore, regional_powers=regional_powers,
        concession_scoring=concession_scoring, concession_items=concession_items,
        concession_config=concession_config, dca_start=dca_start, check=check)
    if settings.design == "dyad":
        settings.dyad_options()  # a broken option or item table fails before any path is checked or data read
    out = out or settings.default_out
    checked = settings.check and settings.design == "dyad"
    for path in [out, *(PanelResult.check_paths(out) if checked else ())]:
        check_output(path, folder=False, inputs=[data_dir, concession_config], what="panel")
    result = build_panel(settings, _progress())
    result.write(out)
    console.print(f"[green]Panel written[/] to {out}: {result.summary()} ({result.seconds:.1f} s).")
    if result.check is not None:
        typer.echo(result.check)


@command()
def freq(
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data'.")] = PANEL,
    out: Annotated[Path, typer.Option(help="Output folder for results, tables and figures.")] = FREQ,
    models: Annotated[str, typer.Option(help="Comma-separated models: m1,m2,m3,m4 (Table 1), h1,h2 (Table 2), your "
                                             "own from --specs, or 'all'.")] = ",".join(PAPER_MODELS),
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs (see docs/models.md).")]
    = None,
) -> None:
    """Fit the models by maximum likelihood with SEs clustered on the formula's grouping (the paper's logits with
    dyad-clustered SEs and hurdle models) and compare the paper's models with the paper."""
    from models.specs import load_specs

    from .display import print_comparison
    from .stages.frequentist import FrequentistSettings, frequentist

    settings = FrequentistSettings(names(models, load_specs(specs), "models"), panel, specs)
    check_output(out, folder=True, inputs=[panel, specs], what="results")
    result = frequentist(settings, _progress())
    result.write(out)
    print_comparison(result.comparison)
    console.print(f"[green]{len(settings.models)} model(s) fitted[/] in {result.metadata['fit_seconds']:.1f} s; "
                  f"results in {out}/")


@command("fit")
def fit_command(
    model: Annotated[str, typer.Option(help="Model name(s), comma-separated: m1-m4 (Table 1), h1, h2 (Table 2), "
                                            "your own from --specs, or 'all' (the paper's six).")] = "m4",
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data'.")] = PANEL,
    out: Annotated[Path, typer.Option(help="Folder for the saved fits (netCDF).")] = FITS,
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs (see docs/models.md).")]
    = None,
    data: Annotated[Path | None, typer.Option(help="Your own table instead of the panel: .csv, .parquet, .dta, "
                                                  ".rds/.rda or .nc, one row per observation.")] = None,
    formula: Annotated[str, typer.Option(help="A formula to fit instead of --model's names, e.g. \"y ~ x * z + "
                                              "(1 | ccode1:ccode2)\" (--model names it; default 'model').")] = "",
    family: Annotated[str, typer.Option(help="The formula's family: bernoulli, hurdle_poisson, hurdle_negbinomial, "
                                             "cumulative; default bernoulli.")] = "",
    sampler: Annotated[str, typer.Option(help="NUTS implementation: nutpie|numpyro|pymc.")] = SamplerSettings.sampler,
    method: Annotated[str | None, typer.Option(help="marginal (group intercepts integrated out) | plain "
                                                    "(non-centred); default: the spec's.")] = None,
    draws: Annotated[int, typer.Option(help="Draws per chain after tuning.")] = SamplerSettings.draws,
    tune: Annotated[int, typer.Option(help="Tuning iterations per chain.")] = SamplerSettings.tune,
    chains: Annotated[int, typer.Option(help="Number of chains.")] = SamplerSettings.chains,
    seed: Annotated[int, typer.Option(help="Random seed.")] = DEFAULT_SEED,
    target_accept: Annotated[float, typer.Option(help="NUTS target acceptance rate.")] = SamplerSettings.target_accept,
    adaptation: Annotated[str, typer.Option(help="nutpie mass matrix: auto (diag where sampled groupings sit beside the "
                                                 "integrated one, else low_rank) | low_rank (learns correlations) | "
                                                 "diag.")]
    = SamplerSettings.adaptation,
    warm_start: Annotated[str, typer.Option(help="laplace (start at the posterior mode, sample in coordinates "
                                                 "whitened by its Laplace covariance) | none.")]
    = SamplerSettings.warm_start,
    priors: Annotated[Path | None, typer.Option(help="Prior file (TOML) or a packaged set: regularising, wide; "
                                                    "default models/priors/default.toml.")] = None,
    loglik_every: Annotated[int, typer.Option(help="Keep the group log-likelihood of every k-th draw (LOO).")]
    = FitSettings.loglik_every,
    strict: Annotated[bool, typer.Option(help="Exit non-zero if any fit fails its diagnostics.")] = False,
    ess_min: Annotated[int, typer.Option(help="Bulk and tail ESS the diagnostics gate asks of every population "
                                              "parameter.")] = ESS_MIN,
    retries: Annotated[int, typer.Option(help="Refit a fit that fails its diagnostics at twice the draws and "
                                              "tuning, up to this many times (0-3; 0: save it flagged at once; a "
                                              "failed attempt is kept as <model>_<method>.attempt<k>.nc).")]
    = FitSettings.retries,
) -> None:
    """Fit Bayesian models (formulas with group intercepts) and save them with diagnostics."""
    from models.specs import PAPER_MODELS as PAPER

    from data_prep.io import check_free_space

    from .stages.fit import fit_models, fit_path, fit_size, prepare_models

    if data is not None and panel != PANEL:
        _fail("give --data or --panel, not both")
    if formula and model == "m4":  # --model's default names no formula
        model = "model"
    settings = FitSettings(
        models=names(model, PAPER) if not formula else (model,), panel=panel, specs=specs, method=method,
        priors=priors, formula=formula, family=family, data=data,
        sampler=SamplerSettings(sampler=sampler, draws=draws, tune=tune, chains=chains, seed=seed,
                                target_accept=target_accept, adaptation=adaptation, ess_min=ess_min,
                                warm_start=warm_start),
        loglik_every=loglik_every, retries=retries)
    source = data or panel
    check_output(out, folder=True, inputs=[source, specs, priors], what="fits")
    models = prepare_models(settings)  # every spec, prior and model checked against the panel before any fit
    for m in models:
        check_output(fit_path(out, m.spec.name, m.method), folder=False, inputs=[source, specs, priors], what="fit")
    check_free_space(out, sum(fit_size(m, settings) for m in models), "fits")

    def keep_failed(name: str, attempt: int, fit) -> None:  # its sampling time is not thrown away
        path = fit_path(out, name, fit.record.method).with_suffix(f".attempt{attempt}.nc")
        console.print(f"kept the attempt that failed its diagnostics: {fit.save(path)}")

    result = fit_models(settings, _progress(), models=models, on_failed=keep_failed, on_fit=lambda name, fit:
                        console.print(f"saved {fit.save(fit_path(out, name, fit.record.method))}"))
    if result.failed and strict:
        raise typer.Exit(code=1)


@command()
def report(
    fits: Annotated[Path, typer.Option(help="Folder of saved fits ('coupproof fit').")] = FITS,
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data'.")] = PANEL,
    freq: Annotated[Path, typer.Option(help="Frequentist results ('coupproof freq').")] = ReportSettings.freq,
    out: Annotated[Path, typer.Option(help="Output folder: report.html, figures/, tables/.")] = REPORT,
    model: Annotated[str, typer.Option(help="Comma-separated models, or 'all' (the paper's six).")] = "all",
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs.")] = None,
    ppc_draws: Annotated[int, typer.Option(help="Posterior draws for the predictive checks.")]
    = ReportSettings.ppc_draws,
    sensitivity: Annotated[Path, typer.Option(help="Results of 'coupproof sensitivity', added when present.")]
    = SENSITIVITY,
    robustness: Annotated[Path, typer.Option(help="Results of 'coupproof robustness', added when present.")]
    = ROBUSTNESS,
    validate: Annotated[Path, typer.Option(help="Results of 'coupproof validate', added when present.")] = VALIDATE,
    title: Annotated[str, typer.Option(help="The report's title.")] = ReportSettings.title,
    fit: Annotated[Path | None, typer.Option(help="One saved fit to report on the data its record names (a fit on "
                                                  "your own table needs no panel); --fits and --model are then "
                                                  "not read.")] = None,
) -> None:
    """Write the HTML report of the saved Bayesian fits (never refits)."""
    from models.specs import PAPER_MODELS as PAPER

    from .stages.report import ReportResult, report as build

    settings = ReportSettings(models=names(model, PAPER), fits=fits, panel=panel, freq=freq, specs=specs,
                              ppc_draws=ppc_draws, sensitivity=sensitivity, robustness=robustness, validate=validate,
                              title=title, fit_file=fit)
    check_output(out, folder=True, inputs=settings.inputs, what="report")
    path = build(settings, _progress()).write(out)
    console.print(f"[green]Report written[/] to {path} (figures and tables beside it); "
                  f"{ReportResult.PAGE} opens in any browser")


@command()
def sensitivity(
    model: Annotated[str, typer.Option(help="Model(s) to refit under every prior set, comma-separated.")] = "m4",
    prior_sets: Annotated[Path | None, typer.Option(help="Prior sets (TOML); default models/priors/sensitivity.toml.")]
    = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (tcp://host:8786), or 'serial'; "
                                                       "default: a LocalCluster on this machine.")] = None,
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data'.")] = PANEL,
    fits: Annotated[Path, typer.Option(help="Saved fits to power-scale ('coupproof fit').")] = FITS,
    out: Annotated[Path, typer.Option(help="Output folder (tables, figures, cache/).")] = SENSITIVITY,
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs.")] = None,
    draws: Annotated[int, typer.Option(help="Draws per chain of each refit.")] = REFIT_SAMPLER.draws,
    tune: Annotated[int, typer.Option(help="Tuning iterations per chain of each refit.")] = REFIT_SAMPLER.tune,
    chains: Annotated[int, typer.Option(help="Chains per refit.")] = REFIT_SAMPLER.chains,
    seed: Annotated[int, typer.Option(help="Random seed (the same for every prior set).")] = DEFAULT_SEED,
    refits: Annotated[bool, typer.Option("--refits/--no-refits", help="Refit --model under the prior sets; "
                                         "--no-refits: power-scaling of the saved fits only (seconds).")] = True,
) -> None:
    """Prior sensitivity: power-scaling of the saved fits, and refits under alternative prior sets (on Dask)."""
    from models.specs import load_specs

    from .display import print_prior_sets
    from .stages.sensitivity import SensitivitySettings, sensitivity as run

    settings = SensitivitySettings(
        models=names(model, load_specs(specs)), prior_sets=prior_sets, panel=panel, fits=fits, specs=specs,
        sampler=SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed), refits=refits,
        scheduler=scheduler, cache=out / "cache")
    check_output(out, folder=True, inputs=[panel, fits, specs, prior_sets], what="sensitivity")
    result = run(settings, _progress())
    result.write(out)
    for refitted in result.prior_sets.values():
        print_prior_sets(refitted.table)
    console.print(f"[green]Sensitivity results[/] in {out}/ (the report adds them when present)")


@command()
def priors(
    model: Annotated[str, typer.Option(help="Model(s) to compare, comma-separated, or 'all' (the paper's six).")]
    = "all",
    sets: Annotated[str, typer.Option(help="Prior sets compared with the default, comma-separated: packaged names "
                                           "(regularising, wide) or prior files; 'wide' is the reference.")]
    = ",".join(PriorComparisonSettings.sets),
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data'.")] = PANEL,
    fits: Annotated[Path, typer.Option(help="Saved fits under the default priors ('coupproof fit'); a model "
                                            "without one, or fitted under other priors, is refitted.")] = FITS,
    freq: Annotated[Path, typer.Option(help="Frequentist results ('coupproof freq'): the standard errors.")]
    = PriorComparisonSettings.freq,
    out: Annotated[Path, typer.Option(help="Output folder (prior_defaults.csv/.md/.png, cache/).")] = SENSITIVITY,
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs.")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'serial'; default: a LocalCluster.")]
    = None,
    draws: Annotated[int, typer.Option(help="Draws per chain of each refit.")] = COMPARE_SAMPLER.draws,
    tune: Annotated[int, typer.Option(help="Tuning iterations per chain of each refit.")] = COMPARE_SAMPLER.tune,
    chains: Annotated[int, typer.Option(help="Chains per refit.")] = COMPARE_SAMPLER.chains,
    seed: Annotated[int, typer.Option(help="Random seed of every refit.")] = DEFAULT_SEED,
    retries: Annotated[int, typer.Option(help="Refit a fit that fails its diagnostics at twice the length, up to "
                                              "this many times (0: flag it at once).")]
    = PriorComparisonSettings.retries,
) -> None:
    """Do the default priors let the data speak? Each model's interaction under the default priors, the
    regularising set and the wide set, and power-scaling of the default fits (docs/priors.md)."""
    from models.specs import PAPER_MODELS as PAPER
    from reports.prior_defaults import TOLERANCE

    from .display import print_prior_defaults
    from .stages.priors import compare_priors

    settings = PriorComparisonSettings(
        models=names(model, PAPER), sets=names(sets, [], "sets", "prior set"), panel=panel, fits=fits, freq=freq,
        specs=specs, sampler=SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed), retries=retries,
        scheduler=scheduler, cache=out / "cache")
    check_output(out, folder=True, inputs=[panel, fits, freq, specs], what="prior comparison")
    result = compare_priors(settings, _progress())
    result.write(out)
    print_prior_defaults(result.table)
    console.print(f"{result.met} of {len(result.table)} interaction(s) meet the criterion (within {TOLERANCE} "
                  f"frequentist SE of the wide set, nothing flagged by power-scaling); results in {out}/")


@command("prior-check")
def prior_check(
    models: Annotated[str, typer.Option(help="Comma-separated models whose priors to check (packaged or from "
                                             "--specs), or 'all' (every model of the spec file); '' for none.")]
    = ",".join(PAPER_MODELS),
    variants: Annotated[str, typer.Option(help="Comma-separated robustness variants whose Bayesian versions to "
                                               "check too, or 'all'; '' for none.")] = "",
    panel: Annotated[Path, typer.Option(help="Panel the models are fitted on ('coupproof data').")] = PANEL,
    specs: Annotated[Path | None, typer.Option(help="TOML file with your own model specs.")] = None,
    priors: Annotated[str | None, typer.Option(help="Packaged prior set or prior file; default: the defaults.")]
    = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    simulations: Annotated[int, typer.Option(help="Prior predictive draws per model.")]
    = PriorCheckSettings.simulations,
    seed: Annotated[int, typer.Option(help="Random seed.")] = DEFAULT_SEED,
    out: Annotated[Path, typer.Option(help="Output folder (prior_predictive.csv/.md/.png/.json).")] = PRIOR_CHECK,
) -> None:
    """Prior predictive check: is the event rate in the data (the count mean, the category shares) inside the
    central 90% of what each model's priors predict on its own design? Exit 1 where one is not."""
    from models.specs import load_specs

    from .display import print_prior_check
    from .stages.prior_check import check_priors

    known = load_specs(specs)
    chosen = tuple(name for name in known if specs is None or name not in PAPER_MODELS) if models == "all" \
        else tuple(n.strip() for n in models.split(",") if n.strip())
    settings = PriorCheckSettings(chosen, tuple(v.strip() for v in variants.split(",") if v.strip()), panel, specs,
                                  priors, data_dir, simulations, seed)
    check_output(out, folder=True, inputs=[panel, specs], what="prior predictive check")
    result = check_priors(settings, _progress())
    result.write(out)
    print_prior_check(result.table)
    outside = int((~result.table["inside"].astype(bool)).sum())
    console.print(f"{len(result.table) - outside} of {len(result.table)} value(s) inside the central 90% of the "
                  f"prior predictive distribution; results in {out}/")
    if outside:
        raise typer.Exit(1)


@command()
def robustness(
    variants: Annotated[str, typer.Option(help="Comma-separated variants of models/robustness.toml, or 'all'.")] = "all",
    variant_file: Annotated[Path | None, typer.Option(help="Your own variant file (TOML, the packaged one's form).")]
    = None,
    panel: Annotated[Path, typer.Option(help="Panel built by 'coupproof data' (the main design).")] = PANEL,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    out: Annotated[Path, typer.Option(help="Output folder: a table per variant, estimates, key findings, forest plot.")]
    = ROBUSTNESS,
    bayes: Annotated[bool, typer.Option("--bayes/--no-bayes", help="Also fit the Bayesian versions (on Dask, cached).")]
    = True,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'serial'; default: a LocalCluster.")]
    = None,
    draws: Annotated[int, typer.Option(help="Draws per chain of each Bayesian fit.")] = ROBUST_SAMPLER.draws,
    tune: Annotated[int, typer.Option(help="Tuning iterations per chain of each Bayesian fit.")] = ROBUST_SAMPLER.tune,
    chains: Annotated[int, typer.Option(help="Chains per Bayesian fit.")] = ROBUST_SAMPLER.chains,
    seed: Annotated[int, typer.Option(help="Random seed of every Bayesian fit.")] = DEFAULT_SEED,
    retries: Annotated[int, typer.Option(help="Refit a Bayesian fit that fails its diagnostics at twice the length, "
                                              "up to this many times (0: flag it at once).")]
    = RobustnessSettings.retries,
    fits: Annotated[Path, typer.Option(help="The main models' saved fits ('coupproof fit'), shown as the reference "
                                            "where present.")] = FITS,
) -> None:
    """The paper's robustness checks (section 5 and its appendix): every variant of the main models, fitted as the
    paper did, with the key findings side by side."""
    from .display import print_findings
    from .stages.robustness import robustness as run

    settings = RobustnessSettings(  # the variant file and the variants are checked here, before any path
        variants=() if variants == "all" else names(variants, [], "variants", "variant"), variant_file=variant_file,
        panel=panel, data_dir=data_dir, bayes=bayes,
        sampler=SamplerSettings(draws=draws, tune=tune, chains=chains, seed=seed), retries=retries,
        scheduler=scheduler, fits=fits, cache=out / "cache")
    check_output(out, folder=True, inputs=[panel, variant_file, data_dir, fits], what="robustness results")
    result = run(settings, _progress())
    result.write(out)
    print_findings(result.findings)
    timing = result.timing
    console.print(f"[green]{len(timing['variants'])} variant(s) fitted[/] in "
                  f"{timing['frequentist_seconds'] + timing['bayesian_seconds']:.1f} s (frequentist "
                  f"{timing['frequentist_seconds']:.1f} s); results in {out}/")


@command()
def validate(
    cases: Annotated[str, typer.Option(help="Calibration cases to run, comma-separated, or 'all'.")] = "all",
    config: Annotated[Path | None, typer.Option(help="Calibration cases (TOML); default models/calibration.toml.")]
    = None,
    panel: Annotated[Path, typer.Option(help="Dyad panel ('coupproof data'): the Model 4 design.")] = PANEL,
    country_year_panel: Annotated[Path, typer.Option(help="Country-year panel ('coupproof data --design "
                                                          "country_year'), for country cases.")]
    = COUNTRY_YEAR_PANEL,
    fits: Annotated[Path, typer.Option(help="Saved fits: recovery cases fix the truth at their posterior mean.")]
    = FITS,
    out: Annotated[Path, typer.Option(help="Output folder (tables, PIT-ECDF plots, cache/).")] = VALIDATE,
    simulations: Annotated[int | None, typer.Option(help="Simulations per case (default: each case's own).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (tcp://host:8786), or 'serial'; "
                                                       "default: a LocalCluster on this machine.")] = None,
    mle: Annotated[str, typer.Option(help="Model whose marginal MLE the kernel and an independent reference "
                                          "compute on the dyad panel; 'none' to skip.")] = CalibrationSettings.mle,
) -> None:
    """Simulation-based calibration of every model family, recovery at a fit's posterior mean, and the kernel's
    marginal MLE against an independent reference (build/validate/; the report adds them when present)."""
    from rich.markup import escape

    from .stages.calibration import calibrate

    settings = CalibrationSettings(
        cases=() if cases == "all" else names(cases, [], "cases", "case"), config=config, panel=panel,
        country_year_panel=country_year_panel, fits=fits, simulations=simulations, scheduler=scheduler, mle=mle,
        cache=out / "cache")
    check_output(out, folder=True, inputs=[panel, country_year_panel, fits, config], what="calibration")
    result = calibrate(settings, _progress())
    result.write(out)
    if not result.families.empty:
        console.print(escape(result.families.to_markdown(index=False, floatfmt=".3g")), soft_wrap=True)
    console.print(f"[green]Calibration results[/] in {out}/ ({result.meta['seconds']:.0f} s; the report adds them)")


@command()
def concessions(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    panel: Annotated[Path, typer.Option(help="The dyad panel whose new-pact rows the readings count.")] = PANEL,
    concession_config: Annotated[Path | None, typer.Option(help="Concession item table (TOML); default the "
                                                                "packaged concession_items.toml.")] = None,
    fit_top: Annotated[int, typer.Option(help="Fit Table 2 (h1, h2) under this many of the closest readings that "
                                              "give different counts (0: none).")] = 3,
    exclusions: Annotated[bool, typer.Option(help="Also fit the Heckman robustness model with each candidate "
                                                  "exclusion restriction (two-step and full ML; exclusions.csv/.md).")]
    = True,
    out: Annotated[Path, typer.Option(help="Output folder (readings.csv/.md, table2_readings.csv/.md, "
                                           "exclusions.csv/.md).")]
    = BUILD / "concessions",
) -> None:
    """Rank every reading of the concession measure (items, scoring, whose obligations, which pacts, sample,
    missing provisions) by its distance to the paper's Table 5, closest first; then fit Table 2 under the top ones,
    and the Heckman robustness model under each candidate exclusion restriction."""
    import pandas as pd

    from data_prep.checks import REFERENCE
    from data_prep.concession_readings import rank_readings, readings_inputs, readings_markdown
    from data_prep.io import atomic_write_text
    from inference.table2_readings import fitted_readings, table2_under_readings
    from reports.frequentist import REFERENCE as TABLES

    if isinstance(fit_top, bool) or fit_top < 0:
        _fail(f"--fit-top must be a whole number >= 0, got {fit_top}")
    check_output(out, folder=True, inputs=[data_dir, panel], what="concession readings")
    reference = pd.read_csv(REFERENCE)
    frame, rows, members = readings_inputs(data_dir, panel, concession_config)
    table = rank_readings(rows, members, reference, config_path=concession_config)
    atomic_write_text(out / "readings.csv", table.to_csv(index=False))
    atomic_write_text(out / "readings.md", readings_markdown(table, reference))
    best = table.iloc[0]
    choices = ", ".join(f"{k}={best[k]}" for k in ("item_list", "scoring", "obligations", "pacts", "sample",
                                                     "missing"))
    console.print(f"[green]{len(table)} readings ranked[/] in {out}/readings.csv; closest to Table 5: {choices} "
                  f"(distance {best['distance']:.3f})")
    if fit_top:
        readings = fitted_readings(table, fit_top)
        with console.status(f"Fitting Table 2 under {len(readings)} readings ..."):
            fits = table2_under_readings(frame, rows, members, readings,
                                         pd.read_csv(TABLES),
                                         concession_config)
        atomic_write_text(out / "table2_readings.csv", fits.to_csv(index=False))
        atomic_write_text(out / "table2_readings.md",
                          "Table 2's key interactions under the closest readings (rank as in readings.md), beside "
                          "the paper's (its Table 2 reports the zero part: docs/models.md).\n\n"
                          + fits.round(4).to_markdown(index=False) + "\n")
        console.print(f"Table 2 under the top {len(readings)} readings: {out}/table2_readings.csv")
    if exclusions:
        from data_prep.panel import read_panel
        from inference.robustness import exclusion_table
        from models.robustness import load_variants
        from reports.exclusions import exclusions_markdown

        with console.status("Heckman model under each candidate exclusion restriction (two-step and full ML) ..."):
            table = exclusion_table(read_panel(panel), load_variants())
        atomic_write_text(out / "exclusions.csv", table.to_csv(index=False))
        atomic_write_text(out / "exclusions.md", exclusions_markdown(table))
        console.print(f"Heckman model under {len(table)} exclusion restrictions: {out}/exclusions.csv")


@command()
def cluster(
    workers: Annotated[int, typer.Option(help="Worker processes to start (one thread each: a fit's chains run in "
                                              "it one after another).")] = 2,
    port: Annotated[int, typer.Option(help="The scheduler's port (0: any free one).")] = 8786,
    folder: Annotated[Path, typer.Option(help="Where the scheduler file, logs and process ids go.")]
    = BUILD / "cluster",
    stop: Annotated[bool, typer.Option(help="Stop the cluster started in --folder instead.")] = False,
) -> None:
    """Start a Dask scheduler and workers as separate processes on this machine (detached), for the fan-out
    commands' --scheduler; or stop them."""
    from .cluster import ClusterError, start_cluster, stop_cluster

    try:
        if stop:
            console.print(f"stopped {stop_cluster(folder)} cluster processes")
            return
        started = start_cluster(folder, workers=workers, port=port)
    except ClusterError as exc:
        _fail(str(exc))
    console.print(f"[green]Dask scheduler at {started.address}[/] with {workers} workers (logs in {folder}/); "
                  f"pass --scheduler {started.address} to sensitivity, priors, robustness or validate, and stop "
                  f"it with 'coupproof cluster --stop --folder {folder}'")


@command()
def results(
    build: Annotated[Path, typer.Option(help="The build folder to read (make's outputs).")] = BUILD,
    out: Annotated[Path, typer.Option(help="Output folder for the Markdown results pages.")] = Path("docs/results"),
    pages: Annotated[str, typer.Option(help="Comma-separated pages to write (reproduction, bayesian, priors, "
                                            "robustness, calibration, studies, speed), leaving the others and the "
                                            "index as they are; default: all.")] = "all",
) -> None:
    """Write the results pages (Markdown) from the build outputs: the reproduction, the Bayesian fits, priors,
    robustness, calibration, the studies and speed; a missing output is named with the make target that builds it."""
    from .stages.results import ResultsSettings, results_pages

    chosen = () if pages.strip() == "all" else tuple(name.strip().removesuffix(".md") for name in pages.split(","))
    settings = ResultsSettings(build=build, out=out, pages=chosen)  # an unknown page: one error, exit 2
    check_output(out, folder=True, inputs=[build], what="results pages")
    paths = results_pages(settings, _progress()).write(out)
    console.print(f"[green]{len(paths)} results pages written[/] to {out}/ from {build}/")


def main() -> None:
    """The `coupproof` command: the app, ended at once after an interrupt. A sampler's threads (nutpie's) may still
    be calling the compiled log density, which calls back into Python, when the interpreter shuts down; a normal
    shutdown under them crashed once in about a hundred interrupted fits (SIGSEGV instead of exit 130), and so,
    once, did freeing the interrupted frames (the sampler's compiled model) while those threads ran: the command
    now ends as soon as the interrupt has been reported. Every file was already cleaned up on the way out (atomic
    writes), so nothing is lost by not finalising."""
    _standalone.append(True)
    try:
        app()
    except SystemExit as exc:
        if _received:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exc.code if isinstance(exc.code, int) else 128 + _received[0])
        raise


if __name__ == "__main__":
    main()
