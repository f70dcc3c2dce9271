"""The calibration stage: whether the models recover the truths they are given.

Simulation-based calibration of every model family (cases in models/calibration.toml), recovery at a saved fit's
posterior mean, and the kernel's marginal maximum-likelihood estimate against an independent reference.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..defaults import COUNTRY_YEAR_PANEL, FITS, PANEL, VALIDATE
from .base import Progress, at_least, read_png, read_table, write_png, write_table
from .fit import saved_fit_path


@dataclass(frozen=True)
class CalibrationSettings:
    """Which calibration cases to run, and where: the options of `coupproof validate`, checked on creation.

    Parameters
    ----------
    cases : tuple of str, optional
        Names of cases in `config` (e.g. "logit_dyad"); default: an empty tuple, every case.
    config : pathlib.Path, optional
        The calibration cases (TOML); default: models/calibration.toml.
    panel : pathlib.Path, optional
        The dyad panel (`coupproof data`), for the dyad cases and the MLE cross-check; default: build/panel.nc.
    country_year_panel : pathlib.Path, optional
        The country-year panel (`coupproof data --design country_year`), for the country cases; default:
        build/country_year/panel.nc.
    fits : pathlib.Path, optional
        The saved fits whose posterior mean a recovery case takes as its truth; default: build/fits.
    simulations : int, optional
        Simulations per case, at least 2; default: each case's own.
    scheduler : str, optional
        A Dask scheduler address, "serial", or None for a local cluster on this machine.
    mle : str, optional
        The model whose marginal MLE the kernel and an independent reference compute on the dyad panel (default:
        "m4"; "none" skips it).
    cache : pathlib.Path, optional
        The folder of cached simulations; default: build/validate/cache.

    Raises
    ------
    ValueError
        If `simulations` is below 2, naming the option.

    Examples
    --------
    >>> import coupproof as cp
    >>> settings = cp.CalibrationSettings(cases=("logit_dyad",), simulations=20, mle="none")
    """

    cases: tuple[str, ...] = ()
    config: Path | None = None
    panel: Path = PANEL
    country_year_panel: Path = COUNTRY_YEAR_PANEL
    fits: Path = FITS
    simulations: int | None = None
    scheduler: str | None = None
    mle: str = "m4"
    cache: Path = VALIDATE / "cache"

    def __post_init__(self) -> None:
        if self.simulations is not None:
            at_least(self.simulations, 2, "simulations")


@dataclass
class CaseResult:
    """One prior case: its PIT values by quantity, the uniformity tests and the PIT-ECDF plot.

    Attributes
    ----------
    pits : xarray.Dataset
        The PIT values (where each truth falls in its posterior) by quantity, dim simulation.
    tests : pandas.DataFrame
        Per quantity: the uniformity test of its PIT values, Holm-adjusted across the case, and whether it passes.
    plot : bytes or None
        The PIT-ECDF plot (PNG).
    """

    pits: object  # xarray.Dataset: the PIT values by quantity, dim simulation
    tests: pd.DataFrame
    plot: bytes | None = None


@dataclass
class CalibrationResult:
    """The calibration of every family, the recovery coverage and the marginal MLE cross-check.

    Attributes
    ----------
    families : pandas.DataFrame
        One row per prior case: its family, simulations, quantities passing, worst quantity and verdict.
    cases : dict of str to CaseResult
        Each prior case's PIT values, tests and plot, by case name.
    recovery : pandas.DataFrame or None
        Per recovery case and quantity: how often the 50% and 94% intervals covered the truth (None without a
        recovery case).
    mle : pandas.DataFrame or None
        The kernel's and the reference's marginal MLE side by side, with their difference in kernel SEs (None when
        skipped).
    mle_details : dict
        The optimiser's details of the MLE cross-check.
    meta : dict
        The run: the cases and their settings, the panel's provenance, the MLE model and the seconds taken.
    power : pandas.DataFrame or None
        Per case with injected errors (`inject` in the case file) and per error, and for the case as it is:
        whether the test on all its simulations flagged it, the rate at which it flags random halves of them (its
        power at that count) and the largest Pareto k of the importance weights. None without such a case.

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.CalibrationResult.read("build/validate")  # None where there is none
    >>> result.families
    """

    families: pd.DataFrame
    cases: dict[str, CaseResult] = field(default_factory=dict)
    recovery: pd.DataFrame | None = None
    mle: pd.DataFrame | None = None
    mle_details: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    power: pd.DataFrame | None = None

    FAMILIES = "families"
    META = "validate.json"

    def write(self, out: str | os.PathLike) -> Path:
        """Write the families table, each case's PIT values, tests and plot, the recovery and the MLE in `out`.

        The files are families.csv and .md, pit_<case>.nc, uniformity_<case>.csv, pit_ecdf_<case>.png,
        recovery.csv, power.csv, mle.csv and .json, and validate.json.

        Parameters
        ----------
        out : str or os.PathLike
            The output folder, e.g. build/validate.

        Returns
        -------
        pathlib.Path
            The folder.
        """
        from data_prep.io import atomic_write_netcdf, atomic_write_text

        out = Path(out)
        for name, case in self.cases.items():
            stacked = case.pits.to_dataarray("quantity").rename("pit").to_dataset()  # names such as I(x ** 2) as labels
            atomic_write_netcdf(out / f"pit_{name}.nc", stacked)
            write_table(out / f"uniformity_{name}.csv", case.tests)
            if case.plot is not None:
                write_png(out / f"pit_ecdf_{name}.png", case.plot)
        write_table(out / f"{self.FAMILIES}.csv", self.families)
        atomic_write_text(out / f"{self.FAMILIES}.md",
                          self.families.to_markdown(index=False, floatfmt=".3g") + "\n")
        if self.recovery is not None:
            write_table(out / "recovery.csv", self.recovery)
        if self.power is not None:
            write_table(out / "power.csv", self.power)
        if self.mle is not None:
            write_table(out / "mle.csv", self.mle)
            atomic_write_text(out / "mle.json", json.dumps(self.mle_details, indent=2, default=str))
        atomic_write_text(out / self.META, json.dumps(self.meta, indent=2, default=str))
        return out

    @classmethod
    def read(cls, out: str | os.PathLike) -> "CalibrationResult | None":
        """Read what `write` wrote in `out`.

        Parameters
        ----------
        out : str or os.PathLike
            The folder, e.g. build/validate.

        Returns
        -------
        CalibrationResult or None
            The results, or None where there is no families table.
        """
        import xarray as xr

        out = Path(out)
        families = read_table(out / f"{cls.FAMILIES}.csv")
        if families is None:
            return None
        cases = {}
        for name in families["case"]:
            tests = read_table(out / f"uniformity_{name}.csv")
            if tests is None:
                continue
            pits = xr.Dataset()
            if (out / f"pit_{name}.nc").is_file():
                stacked = xr.load_dataset(out / f"pit_{name}.nc", engine="h5netcdf")["pit"]
                pits = stacked.to_dataset("quantity")
            cases[name] = CaseResult(pits, tests, read_png(out / f"pit_ecdf_{name}.png"))
        details = json.loads((out / "mle.json").read_text()) if (out / "mle.json").is_file() else {}
        meta = json.loads((out / cls.META).read_text()) if (out / cls.META).is_file() else {}
        return cls(families, cases, read_table(out / "recovery.csv"), read_table(out / "mle.csv"), details, meta,
                   read_table(out / "power.csv"))


def calibrate(settings: CalibrationSettings, progress: Progress | None = None) -> CalibrationResult:
    """Run every chosen calibration case, then the marginal MLE cross-check.

    The cases, panels, specs and truth fits are all checked before any simulation; a simulation already in the
    cache is read, not rerun. `coupproof validate` runs this stage.

    Parameters
    ----------
    settings : CalibrationSettings
        The cases, panels, truth fits, MLE model and scheduler.
    progress : Progress, optional
        Where the stage says what it is doing; default: progress bars and notes on stderr.

    Returns
    -------
    CalibrationResult
        The families table, each case's results, the recovery coverage and the MLE cross-check, held in memory
        until written.

    Raises
    ------
    inference.calibration.CalibrationError
        If a case is unknown or the calibration file cannot be read.
    models.specs.SpecError
        If the MLE model or a case's model is unknown.
    inference.record.FitFileError
        If a recovery case's truth fit is not saved or cannot be read.
    inference.refits.SensitivityError
        If the Dask scheduler cannot be reached.

    Examples
    --------
    >>> import coupproof as cp
    >>> result = cp.calibrate(cp.CalibrationSettings(cases=("logit_dyad",), simulations=20, mle="none"))
    >>> result.write("build/validate")
    >>> result.families  # one row per case with its verdict
    """
    from rich.markup import escape

    from data_prep.panel import panel_to_frame, read_panel
    from inference import calibration as cal
    from inference.record import PanelRef
    from inference.refits import check_scheduler
    from inference.store import load_fit
    from models.specs import get_spec, load_specs
    from reports import calibration as rc

    progress = progress or Progress()
    known = cal.load_cases(settings.config)
    names = settings.cases or tuple(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise cal.CalibrationError(f"unknown calibration case {unknown[0]!r}; known cases: {', '.join(known)}")
    chosen = [known[n] for n in names]
    if settings.simulations is not None:
        chosen = [replace(c, run=replace(c.run, simulations=settings.simulations)) for c in chosen]
    paths = {"dyad": settings.panel, "country_year": settings.country_year_panel}
    panels = {design: read_panel(paths[design]) for design in dict.fromkeys(c.design for c in chosen)}
    if settings.mle != "none":
        panels.setdefault("dyad", read_panel(settings.panel))
        get_spec(settings.mle)  # an unknown model fails now, not after the simulations
    frames = {design: panel_to_frame(ds) for design, ds in panels.items()}
    specs = {c.name: load_specs(c.specs or None) for c in chosen}
    for c in chosen:
        cal.case_spec(c, specs[c.name])
    truths = {c.name: load_fit(saved_fit_path(settings.fits, spec := get_spec(c.truth_fit, specs[c.name])), spec)
              for c in chosen if c.truth == "posterior_mean"}
    check_scheduler(settings.scheduler)
    began = time.perf_counter()
    families, recovery, cases, power = [], [], {}, []
    for c in chosen:
        prepared = cal.prepare_case(c, frames[c.design], truths.get(c.name), specs[c.name])
        with progress.bar(f"{c.name}: {c.run.simulations} simulations ({len(prepared.data.y):,} rows)",
                          c.run.simulations) as advance:
            records = cal.run_case(prepared, settings.cache, settings.scheduler, lambda i, cached: advance())
        sampler = cal.sampler_summary(records)
        if c.truth == "prior":
            tests = cal.uniformity(records, c.run.alpha)
            pits = cal.pit_dataset(records)
            cases[c.name] = CaseResult(pits, tests, rc.plot_pit_ecdf(pits, c.label, set(
                tests.loc[~tests["passed"], "quantity"])))
            row = rc.family_row(c.name, c.label, tests, sampler)
            families.append(row)
            colour = "green" if row["verdict"] == rc.CALIBRATED else "bold red"
            progress.note(f"[{colour}]{c.name}[/]: {row['parameters passing']} quantities pass; worst "
                          f"{escape(row['worst parameter'])} (Holm p = {row['worst p (Holm)']:.3g}); "
                          f"{sampler['seconds_per_fit']:.1f} s per fit")
            if c.inject:
                power += case_power(c, records)
                for row in power[-len(cal.injections(c)):]:
                    progress.note(f"{c.name}: the test flags '{escape(row['error'])}' at {row['simulations']} "
                                  f"simulations at rate {row['flag_rate']:.2f} (largest Pareto k "
                                  f"{row['max_khat']:.2f})")
        else:
            table = cal.coverage(records).assign(case=c.name)
            recovery.append(table)
            progress.note(f"{c.name}: 94% intervals covered the truth in {table['coverage_94'].mean():.0%} of "
                          "simulations on average")
    mle = None
    if settings.mle != "none":
        from inference.marginal_mle import compare_mle
        from models.design import model_data

        with progress.status(f"Marginal MLE of {settings.mle}: kernel and adaptive Gauss-Hermite reference ..."):
            mle = compare_mle(model_data(frames["dyad"], get_spec(settings.mle)))
        progress.note(f"Marginal MLE of {settings.mle}: largest difference "
                      f"{mle['difference_in_se'].abs().max():.2g} kernel SEs")
    design = "dyad" if "dyad" in panels else next(iter(panels))  # the panel the tables describe
    panel = PanelRef.of(panels[design], str(paths[design]))
    meta = {"cases": [c.name for c in chosen], "settings": {c.name: vars(c.run) for c in chosen},
            "panel": panel.path, "panel_checksum": panel.checksum, "substitutes": panel.substitutes,
            "mle_model": settings.mle, "seconds": round(time.perf_counter() - began, 1)}
    return CalibrationResult(pd.DataFrame(families, columns=rc.FAMILY_COLUMNS), cases,
                             pd.concat(recovery, ignore_index=True) if recovery else None, mle,
                             dict(mle.attrs) if mle is not None else {}, meta, pd.DataFrame(power) if power else None)


def case_power(case, records: list[dict]) -> list[dict]:
    """Measure the power of a case's test against each error it injects, and its false-alarm rate.

    Each simulation's record holds, besides its PIT values, those of the same simulation under each injected error
    (a fit departing from the simulator, made from the case's own fit by importance weights: `injected_fit`). The
    rates are those of the case's test on random subsets of POWER_SHARE of the simulations (`flag_rate`): a
    conservative figure for the full count, at which `flagged` gives the run's own verdict.

    Parameters
    ----------
    case : inference.calibration.Case
        A prior case with `inject`.
    records : list of dict
        The case's simulation records.

    Returns
    -------
    list of dict
        One row for the case as it is and one per error: case, error, simulations (the subset size the rate is
        at), pool (the case's simulations), flagged (the test on all of them), flag_rate, the quantity whose PIT
        values are least uniform and their mean (0.5 where the error does not move it), and the largest Pareto
        k of the importance weights with the number of simulations where it exceeds 0.7 (there the reweighted fit
        is unreliable).
    """
    from inference import calibration as cal

    pool = len(records)
    size = max(2, round(pool * cal.POWER_SHARE))
    arms = {"none (the case as it is)": (records, [])}
    for key, error, value in cal.injections(case):
        injected = [{"simulation": r["simulation"], "pit": r["injected"][key]["pit"]} for r in records]
        arms[cal.INJECTIONS[error].format(value=value)] = (injected, [r["injected"][key]["khat"] for r in records])
    rows = []
    for error, (arm, khats) in arms.items():
        tests = cal.uniformity(arm, case.run.alpha)
        worst = tests.loc[tests["p_value"].idxmin()]
        rows.append({"case": case.name, "error": error, "simulations": size, "pool": pool,
                     "flagged": not bool(tests["passed"].all()),
                     "flag_rate": cal.flag_rate(arm, case.run.alpha, size, seed=case.run.seed),
                     "worst_quantity": worst["quantity"], "worst_mean_pit": float(worst["mean_pit"]),
                     "max_khat": max(khats, default=float("nan")),
                     "khat_over_0.7": sum(k > 0.7 for k in khats) if khats else float("nan")})
    return rows
