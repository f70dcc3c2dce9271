"""The Heckman robustness model of concessions under each candidate exclusion restriction, as a Markdown page
(`coupproof concessions`, build/concessions/exclusions.md; the reproduction results page shows it)."""

from __future__ import annotations

import pandas as pd

INTRO = (
    "The paper checks Table 2 with a Heckman selection model (selection: a new bilateral defense pact over all "
    "dyad-years; outcome: the number of concessions in it) without naming the variable it leaves out of the outcome "
    "equation. A Heckman model is identified by that exclusion restriction (or, weakly, by the probit's "
    "non-linearity), so each candidate is tried in turn: the key interaction in the outcome equation by Heckman's "
    "two-step estimator and by full-information maximum likelihood (dyad-clustered SEs), and rho, the correlation "
    "of the two equations' errors. A rho at +-1 or a fit that did not converge means the data do not identify the "
    "model under that restriction. The last column says why each restriction might or might not hold.")


def exclusions_markdown(table: pd.DataFrame) -> str:
    """The exclusion table with its explanation (an empty table says no Heckman variant was found)."""
    if table.empty:
        return INTRO + "\n\nNo Heckman variant in the robustness file runs on the base panel.\n"
    shown = table.rename(columns={"ml_se_clustered": "ml_se", "term": "key term"})
    numbers = [c for c in shown.columns if shown[c].dtype.kind == "f"]
    shown[numbers] = shown[numbers].round(3)
    return f"{INTRO}\n\n{shown.to_markdown(index=False)}\n"
