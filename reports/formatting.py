"""How the tables read, in the HTML report and the results pages alike: an estimate and its interval in one cell
("-1.23 [-2.01, -0.45]"), an estimate and its standard error in one ("-1.23 (0.40)"), whole numbers as integers,
other numbers to three significant digits, and headers in words instead of column names. The CSV tables keep
the raw columns; this is only how they are shown."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from inference.diagnostics import HDI_PROB

DIGITS = 3  # significant digits of a number in a shown table
HDI = f"{HDI_PROB:.0%} HDI"
# Columns shown together: (the columns, the shown header); an estimate with an interval or with its standard error.
COMBINED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("mean", "hdi_lower", "hdi_upper"), f"posterior mean [{HDI}]"),
    (("bayes_mean", "bayes_lower", "bayes_upper"), f"posterior mean [{HDI}]"),
    (("odds_ratio", "lower", "upper"), f"odds ratio [{HDI}]"),
    (("estimate", "lower", "upper"), f"estimate [{HDI}]"),
    (("expected", "lower", "upper"), f"replicated [{HDI_PROB:.0%} interval]"),
    (("prior_median", "prior_low", "prior_high"), "prior predictive median [central 90%]"),
    (("freq", "freq_se"), "frequentist (SE)"),
    (("freq_estimate", "freq_se"), "frequentist (SE)"),
    (("paper", "paper_se"), "paper (SE)"),
    (("ours", "our_se"), "ours (SE)"),
)
# Columns that hold counts, whatever their dtype (ESS is a real number, shown as a whole one).
WHOLE = {"ess_bulk", "ess_tail", "groups", "rows", "events", "simulations", "pool", "observed", "N", "n", "n_rows",
         "n_groups", "n_events", "k_above_threshold", "fits with divergences"}
HEADERS = {
    "sd": "posterior sd", "bayes_sd": "posterior sd", "r_hat": "R-hat", "ess_bulk": "bulk ESS", "ess_tail": "tail ESS",
    "mcse_mean": "MCSE of the mean", "mcse_sd": "MCSE of the sd", "pr_negative": "Pr(< 0)", "pr_positive": "Pr(> 0)",
    "pr_below_1": "Pr(odds ratio < 1)", "freq_p": "p", "freq_converged": "converged",
    "bayes_diagnostics_passed": "diagnostics passed", "diagnostics_passed": "diagnostics passed",
    "as_in_main_table": "as in the main table", "main_table": "main table", "prior_set": "prior set",
    "elpd_loo": "ELPD (LOO)", "p_loo": "effective parameters", "k_above_threshold": "groups with large Pareto k",
    "k_threshold": "Pareto k threshold", "k_max": "largest Pareto k", "posterior_over_prior_iqr":
    "posterior / prior IQR", "diff_in_paper_se": "difference (paper SEs)", "sign_agrees": "same sign",
    "within_2_paper_se": "within 2 paper SEs", "shift_default_se": "default's shift (SEs)",
    "within_tolerance": "within tolerance", "flagged_under_default": "flagged under the default",
    "meets_criterion": "meets the criterion", "p_value": "p", "p_holm": "p (Holm)", "mean_pit": "mean PIT",
    "flag_rate": "flag rate", "pool": "simulations in the pool", "in_data": "in the data",
    "percentile": "percentile of the data", "inside": "inside the central 90%",
    "label": "term",  # a term's long name, shown in place of its code name (hidden where both are there)
}


def number(value, digits: int = DIGITS, whole: bool = False) -> str:
    """One cell: missing as empty, booleans as yes/no, text as it is, whole numbers (or any number when `whole`)
    as integers with thousands separators, others to `digits` significant digits."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if whole or (x.is_integer() and abs(x) < 1e15):
        return f"{round(x):,}"
    text = f"{x:#.{digits}g}"  # '#' keeps trailing zeros: -10.0, 0.500
    return f"{x:,.0f}" if "e+" in text else text.removesuffix(".")


def with_se(estimate, se, digits: int = DIGITS) -> str:
    """'estimate (se)', or the estimate alone where there is no se."""
    first, second = number(estimate, digits), number(se, digits)
    return f"{first} ({second})" if first and second else first


def interval(low, high, digits: int = DIGITS) -> str:
    """'[low, high]', or empty where either end is missing."""
    first, second = number(low, digits), number(high, digits)
    return f"[{first}, {second}]" if first and second else ""


def with_interval(estimate, low, high, digits: int = DIGITS) -> str:
    """'estimate [low, high]', or the estimate alone where the interval is missing."""
    first, bounds = number(estimate, digits), interval(low, high, digits)
    return f"{first} {bounds}" if first and bounds else first


def header(name: str) -> str:
    """A column's shown header: its words (HEADERS), else its name with spaces for underscores."""
    return HEADERS.get(name, str(name).replace("_", " "))


def present(frame: pd.DataFrame, hide: tuple[str, ...] = (), digits: int = DIGITS) -> tuple[pd.DataFrame, set[str]]:
    """A table as shown: the COMBINED columns joined into one cell, `hide` left out, every cell formatted and every
    header in words; returns the shown table (strings) and the headers of its numeric columns (which a page keeps
    on one line)."""
    columns = [c for c in frame.columns if c not in hide]
    used: set[str] = set()
    shown: dict[str, pd.Series] = {}
    numeric: set[str] = set()
    for name in columns:
        if name in used:
            continue
        group = next((g for g, _ in COMBINED if name == g[0] and all(c in columns and c not in used for c in g)),
                     None)
        if group is not None:
            title = dict(COMBINED)[group]
            join = with_interval if len(group) == 3 else with_se
            shown[title] = pd.Series([join(*values, digits=digits) for values in frame[list(group)].itertuples(
                index=False, name=None)], index=frame.index)
            used.update(group)
            numeric.add(title)
            continue
        column = frame[name]
        whole = name in WHOLE
        shown[header(name)] = column.map(lambda v, whole=whole: number(v, digits, whole))
        used.add(name)
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            numeric.add(header(name))
    return pd.DataFrame(shown, index=frame.index), numeric
