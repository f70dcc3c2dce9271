"""External threat: CINC of potential adversaries in a state's politically relevant environment (PRIE).

McWard & Yoon (2023, sec. 3.2, fn. 20), after Leeds & Savun (2007): threat_i,t is the summed CINC of the
states j in i's PRIE (contiguous states plus major powers, Maoz 1996) that are not allied to i and whose
S-score with i is below the mean S of all politically relevant dyads 1816-2010. The defaults follow
``shared/notes/threat-and-concessions.md`` section A (four alliance types as in MY's footnote, whole-system
PRIE for majors, unweighted S, one pooled threshold, contiguity types 1-5, no colonial contiguity because
its data are absent); :class:`ThreatOptions` exposes the alternatives. The threat returned is *unlagged*;
the panel builder lags it. :func:`validate_against_leeds_savun` compares it with the Leeds-Savun file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from data_prep.frames import years_in_spells
from data_prep.sscore import alliance_ties, s_scores

_ALLIANCE_FLAGS = {
    "four": ("atop_defense", "atop_offense", "atop_neutral", "atop_consul"),
    "five": ("atop_defense", "atop_offense", "atop_neutral", "atop_consul", "atop_nonagg"),
}
_CHOICES = {
    "alliance_exclusion": ("four", "five"),
    "major_prie": ("whole_system", "contig_majors"),
    "sscore": ("unweighted", "weighted"),
    "regional_powers": ("off", "maoz"),
}
_KEYS = ["ccode1", "ccode2", "year"]


@dataclass(frozen=True)
class ThreatOptions:
    """Measurement choices for external threat; defaults are the design note's recommendation.

    ``alliance_exclusion``: "four" (defense/offense/neutrality/consultation, MY fn. 20) or "five" (adds
    nonaggression; fits the Leeds-Savun file better). ``major_prie``: "whole_system" (a major's PRIE is every
    member) or "contig_majors". ``sscore``: "unweighted" or "weighted" (CINC). ``regional_powers``: "off" or
    "maoz" (Maoz regional powers join the PRIE of states in their COW region). ``max_contiguity_type``:
    highest COW direct-contiguity type counted (1-5). ``threshold_years``: pooled window of the S threshold.
    ``colonial``: only "off" (no colonial contiguity data).
    """

    alliance_exclusion: str = "four"
    major_prie: str = "whole_system"
    sscore: str = "unweighted"
    regional_powers: str = "off"
    max_contiguity_type: int = 5
    threshold_years: tuple[int, int] = (1816, 2010)
    colonial: str = "off"

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"ThreatOptions.{name}={value!r} is not allowed; choose one of {allowed}")
        if self.colonial != "off":
            raise ValueError(
                f"ThreatOptions.colonial={self.colonial!r} is not available: the COW colonial contiguity file "
                "is not in the raw data, so only colonial='off' is allowed")
        mct = self.max_contiguity_type
        if isinstance(mct, bool) or not isinstance(mct, (int, np.integer)) or not 1 <= mct <= 5:
            raise ValueError(f"ThreatOptions.max_contiguity_type={mct!r} is not allowed; choose an integer 1-5")
        ty = self.threshold_years
        if (not isinstance(ty, tuple) or len(ty) != 2
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in ty)
                or ty[0] > ty[1]):
            raise ValueError(f"ThreatOptions.threshold_years={ty!r} is not allowed; give (first, last) ints "
                             "with first <= last")

    def as_strings(self) -> dict[str, str]:
        """The options as a flat str -> str mapping, for provenance metadata."""
        return {k: str(v) for k, v in asdict(self).items()}


# ---------------------------------------------------------------------------------------------- helpers

def _members(members: pd.DataFrame) -> pd.DataFrame:
    return members[["ccode", "year"]].astype("int64").drop_duplicates().reset_index(drop=True)


def _date_year(values: pd.Series, fill: int) -> np.ndarray:
    """Year part of 'YYYY-MM-DD' strings (or dates); missing values become ``fill``."""
    years = pd.to_numeric(values.astype("string").str.slice(0, 4), errors="coerce")
    return years.fillna(fill).astype("int64").to_numpy()


def _major_years(majors: pd.DataFrame, mem: pd.DataFrame) -> pd.DataFrame:
    """(ccode, year) of members that are COW major powers that year."""
    maj = majors[["ccode", "styear", "endyear"]].dropna().astype("int64")
    yrs = years_in_spells(maj, ["ccode"], "styear", "endyear", clip=(int(mem["year"].min()), int(mem["year"].max())))
    return yrs.merge(mem, on=["ccode", "year"]).drop_duplicates()


def _cow_region(ccode: pd.Series) -> np.ndarray:
    """COW region from the code block: 1 Americas, 2 Europe, 3 Africa, 4 Middle East, 5 Asia, 6 Oceania."""
    bins = [0, 200, 400, 630, 700, 900, 1000]
    return np.digitize(ccode.to_numpy(), bins[1:-1]) + 1


def _regional_power_dyads(mem: pd.DataFrame, regional_powers: pd.DataFrame, whole_region: bool) -> pd.DataFrame:
    """Directed (i, j, year): j a Maoz regional power of i's region; if ``whole_region`` also the reverse."""
    rp = regional_powers[["ccode", "regstdate", "regenddate"]].dropna(subset=["ccode", "regstdate"])
    rp = rp.assign(ccode=rp["ccode"].astype("int64")).reset_index(drop=True)
    lo, hi = int(mem["year"].min()), int(mem["year"].max())
    rp = rp.assign(start=_date_year(rp["regstdate"], lo), end=_date_year(rp["regenddate"], hi))
    yrs = years_in_spells(rp, ["ccode"], "start", "end", clip=(lo, hi))
    yrs = yrs.merge(mem, on=["ccode", "year"]).drop_duplicates()
    yrs["region"] = _cow_region(yrs["ccode"])
    reg = mem.assign(region=_cow_region(mem["ccode"]))
    pairs = reg.merge(yrs.rename(columns={"ccode": "rp"}), on=["year", "region"])
    parts = [pairs.rename(columns={"ccode": "ccode1", "rp": "ccode2"})[_KEYS]]
    if whole_region:
        parts.append(pairs.rename(columns={"rp": "ccode1", "ccode": "ccode2"})[_KEYS])
    return pd.concat(parts, ignore_index=True)


def _undirected(frame: pd.DataFrame) -> pd.DataFrame:
    """Rewrite (ccode1, ccode2) as (min, max) so directed rows meet undirected S-scores."""
    a, b = frame["ccode1"].to_numpy(), frame["ccode2"].to_numpy()
    return frame.assign(ccode1=np.minimum(a, b), ccode2=np.maximum(a, b))


def _allied_pairs(atop_ddy: pd.DataFrame, exclusion: str) -> pd.DataFrame:
    """Undirected (ccode1<ccode2, year) with any of the excluded obligation types in either direction."""
    flags = list(_ALLIANCE_FLAGS[exclusion])
    hit = atop_ddy[flags].fillna(0).to_numpy().any(axis=1)
    pairs = _undirected(atop_ddy.loc[hit, _KEYS].astype("int64"))
    return pairs[pairs["ccode1"] != pairs["ccode2"]].drop_duplicates()


# ---------------------------------------------------------------------------------------------- public API

def politically_relevant_dyads(
    members: pd.DataFrame,
    contiguity: pd.DataFrame,
    majors: pd.DataFrame,
    options: ThreatOptions = ThreatOptions(),
    regional_powers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Directed (ccode1=i, ccode2=j, year) with j in i's PRIE: contiguous (type <= max) or a major power.

    Both states must be members that year. With ``major_prie="whole_system"`` a major's PRIE is every member;
    with ``regional_powers="maoz"`` Maoz regional powers join the PRIE of members of their COW region (and,
    under whole_system, a regional power's PRIE is its whole region).
    """
    mem = _members(members)
    lo, hi = int(mem["year"].min()), int(mem["year"].max())

    cont = contiguity[contiguity["conttype"] <= options.max_contiguity_type]
    cont = cont[["ccode1", "ccode2", "stdate", "enddate"]].dropna(subset=["ccode1", "ccode2"]).reset_index(drop=True)
    cont = cont.astype({"ccode1": "int64", "ccode2": "int64"}).assign(
        start=_date_year(cont["stdate"], lo), end=_date_year(cont["enddate"], hi))
    cont_years = years_in_spells(cont, ["ccode1", "ccode2"], "start", "end", clip=(lo, hi))
    # Contiguity is used symmetrically even if a reverse row were missing.
    cont_years = pd.concat([cont_years, cont_years.rename(columns={"ccode1": "ccode2", "ccode2": "ccode1"})],
                           ignore_index=True)
    parts = [cont_years[_KEYS]]

    maj = _major_years(majors, mem)
    to_major = mem.merge(maj.rename(columns={"ccode": "ccode2"}), on="year").rename(columns={"ccode": "ccode1"})
    parts.append(to_major[_KEYS])
    if options.major_prie == "whole_system":
        from_major = maj.rename(columns={"ccode": "ccode1"}).merge(
            mem.rename(columns={"ccode": "ccode2"}), on="year")
        parts.append(from_major[_KEYS])

    if options.regional_powers == "maoz":
        if regional_powers is None:
            raise ValueError("ThreatOptions.regional_powers='maoz' needs the regional_powers table "
                             "(ccode, regstdate, regenddate)")
        parts.append(_regional_power_dyads(mem, regional_powers, options.major_prie == "whole_system"))

    prd = pd.concat(parts, ignore_index=True).astype("int64")
    prd = prd[prd["ccode1"] != prd["ccode2"]]
    # Keep member-years only, on both sides.
    prd = prd.merge(mem.rename(columns={"ccode": "ccode1"}), on=["ccode1", "year"])
    prd = prd.merge(mem.rename(columns={"ccode": "ccode2"}), on=["ccode2", "year"])
    return prd.drop_duplicates().sort_values(_KEYS).reset_index(drop=True)


def sscore_threshold(sscores: pd.DataFrame, prd: pd.DataFrame, years: tuple[int, int]) -> float:
    """Mean S over undirected politically relevant dyad-years in ``years`` (inclusive), pooled.

    This is MY's "mean of S-scores for all politically relevant dyads from 1816 to 2010"; a dyad relevant
    in either direction counts once per year.
    """
    window = prd[prd["year"].between(years[0], years[1])]
    keys = _undirected(window[_KEYS]).drop_duplicates()
    matched = keys.merge(sscores[["ccode1", "ccode2", "year", "s"]], on=_KEYS)
    if matched.empty:
        raise ValueError(f"no politically relevant dyads with S-scores in {years}")
    return float(matched["s"].mean())


def external_threat(
    members: pd.DataFrame,
    atop_ddy: pd.DataFrame,
    contiguity: pd.DataFrame,
    majors: pd.DataFrame,
    cinc: pd.DataFrame,
    options: ThreatOptions = ThreatOptions(),
    regional_powers: pd.DataFrame | None = None,
    *,
    threshold: float | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Unlagged threat per member-year: summed CINC of PRIE non-allies with S strictly below the threshold.

    Returns (``ccode, year, threat``, metadata). The threshold is the pooled mean S over politically
    relevant dyads in ``options.threshold_years`` among the given member-years, unless ``threshold`` is
    passed (e.g. to run a short window with the full-period value). States without adversaries get 0.
    """
    mem = _members(members)
    ties = alliance_ties(atop_ddy)
    weights = cinc if options.sscore == "weighted" else None
    ss = s_scores(ties, mem, weights=weights)
    prd = politically_relevant_dyads(mem, contiguity, majors, options, regional_powers)
    computed = threshold is None
    if computed:
        threshold = sscore_threshold(ss, prd, options.threshold_years)

    cand = _undirected(prd).assign(i=prd["ccode1"].to_numpy(), j=prd["ccode2"].to_numpy())
    cand = cand.merge(ss, on=_KEYS, how="left")
    allied = _allied_pairs(atop_ddy, options.alliance_exclusion).assign(allied=True)
    cand = cand.merge(allied, on=_KEYS, how="left")
    adversary = cand[cand["allied"].isna() & (cand["s"] < threshold)]
    cinc_j = cinc[["ccode", "year", "cinc"]].dropna().astype({"ccode": "int64", "year": "int64"})
    cinc_j = cinc_j.drop_duplicates(["ccode", "year"]).rename(columns={"ccode": "j"})
    adversary = adversary.merge(cinc_j, on=["j", "year"], how="left")
    summed = adversary.groupby(["i", "year"], as_index=False)["cinc"].sum(min_count=0)
    out = mem.merge(summed.rename(columns={"i": "ccode", "cinc": "threat"}), on=["ccode", "year"], how="left")
    out["threat"] = out["threat"].fillna(0.0)
    out = out.sort_values(["ccode", "year"]).reset_index(drop=True)

    meta = {
        "threshold": float(threshold),
        "threshold_source": "pooled mean S over politically relevant dyads" if computed else "given",
        "options": options.as_strings(),
        "lagged": "no",
        "n_state_years": int(len(out)),
        "years": f"{int(out['year'].min())}-{int(out['year'].max())}" if len(out) else "",
        "n_prie_dyads": int(len(prd)),
        "n_adversary_dyads": int(len(adversary)),
        "n_adversaries_missing_cinc": int(adversary["cinc"].isna().sum()),
    }
    return out, meta


def validate_against_leeds_savun(
    threat: pd.DataFrame, leeds_savun: pd.DataFrame, years: tuple[int, int] = (1960, 2000)
) -> dict:
    """Agreement of ``threat`` with the Leeds-Savun ``lsthreat`` over matched state-years in ``years``.

    Returns n, Pearson r, exact matches (|diff| < 5e-6, count and share), share within +/-0.005 and both
    means, as a check that the rebuild tracks the published-style measure.
    """
    ours = threat[["ccode", "year", "threat"]].astype({"ccode": "int64", "year": "int64"})
    ls = leeds_savun[["ccode", "year", "lsthreat"]].dropna().astype({"ccode": "int64", "year": "int64"})
    both = ours.merge(ls, on=["ccode", "year"])
    both = both[both["year"].between(years[0], years[1])].dropna()
    n = len(both)
    diff = (both["threat"] - both["lsthreat"]).abs()
    n_exact = int((diff < 5e-6).sum())
    r = float(np.corrcoef(both["threat"], both["lsthreat"])[0, 1]) if n > 1 else float("nan")
    return {
        "years": f"{years[0]}-{years[1]}",
        "n": int(n),
        "r": r,
        "n_exact": n_exact,
        "share_exact": n_exact / n if n else float("nan"),
        "share_within_0005": float((diff <= 0.005).mean()) if n else float("nan"),
        "mean_threat": float(both["threat"].mean()) if n else float("nan"),
        "mean_lsthreat": float(both["lsthreat"].mean()) if n else float("nan"),
    }
