"""The second and third designs. Rahman (2026): DCA in-force coding and coup coding on hand fixtures, the
country-year panel built from the real raw files (dimensions, lags, samples, checksums, bad input), and a
country-intercept model recovering simulated parameters through the same model layer as the dyad study. Kim & Woods
(2022): the pact-to-institutionalization join on hand fixtures (the ordinal model's recovery of simulated cut points
and slopes is in test_model_layer.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
import pytest
from typer.testing import CliRunner

import coupproof as cp
from coupproof.cli import app
from data_prep.country_year import (
    CountryYearOptions, build_country_year_panel, country_year_dataset)
from data_prep.coups import coup_events, years_since_coup
from data_prep.dca import agreement_spells, dcas_in_force
from data_prep.gwf import REGIME_TYPES, regime_types
from data_prep.panel import content_checksum, read_panel, write_panel
from data_prep.sources import RAW_FILES, DataError, RawData
from data_prep.variables import COUNTRY_YEAR_VARIABLES
from inference.effects import odds_ratio_draws, odds_ratios
from raw_mirror import symlink_mirror


def agreement(dca_id: str, a: int, b: int, sign: int, end: int, kind: str = "general", eif: float = np.nan,
              terminated: int = -88, duration: float = np.nan) -> dict:
    return {"DCAid": dca_id, "ccode1": a, "ccode2": b, "type": kind, "signYear": sign, "EIFYear": eif,
            "terminated": terminated, "durationActual": duration, "endYearEstimate": end}


AGREEMENTS = pd.DataFrame([
    agreement("plain", 2, 20, 1990, 1993),  # in force from signature to Kinne's end estimate
    agreement("late_entry", 2, 40, 1990, 2010, "sector", eif=1994),  # enters into force four years after signature
    agreement("terminated", 20, 40, 1995, 2010, terminated=1, duration=2),  # ended after two years
    agreement("unknown_end", 20, 40, 1996, 1998, terminated=-99, duration=10),  # duration used only if terminated
    agreement("renewed", 40, 70, 1980, 2010, eif=1980),  # renewed: the end estimate already carries renewals
    agreement("never", 70, 90, 2009, 2010, eif=2012),  # not in force by the end of the data
])


def years_of(spells: pd.DataFrame, dca_id: str) -> tuple[int, int]:
    row = spells.set_index("DCAid").loc[dca_id]
    return int(row["first_year"]), int(row["last_year"])


def test_dca_spells_follow_signature_end_estimate_and_termination():
    spells = agreement_spells(AGREEMENTS)
    assert years_of(spells, "plain") == (1990, 1993)
    assert years_of(spells, "late_entry") == (1990, 2010)
    assert years_of(spells, "terminated") == (1995, 1997)
    assert years_of(spells, "unknown_end") == (1996, 1998)
    assert years_of(spells, "renewed") == (1980, 2010)
    assert years_of(spells, "never") == (2009, 2010)  # from signature it is in force


def test_dca_spells_from_entry_into_force_where_recorded():
    spells = agreement_spells(AGREEMENTS, "entry_into_force")
    assert years_of(spells, "late_entry") == (1994, 2010)
    assert years_of(spells, "plain") == (1990, 1993)  # no entry-into-force year: the signature year
    assert years_of(spells, "terminated") == (1995, 1997)
    assert "never" not in set(spells["DCAid"])  # enters into force after its last year


def test_dca_counts_per_state_year_count_both_signatories_and_split_by_type():
    counts = dcas_in_force(AGREEMENTS).set_index(["ccode", "year"])
    assert counts.loc[(2, 1990)].tolist() == [2, 1, 1]  # plain (general) and late_entry (sector)
    assert counts.loc[(2, 1994)].tolist() == [1, 0, 1]
    assert counts.loc[(20, 1996)].tolist() == [2, 2, 0]  # terminated (to 1997) and unknown_end
    assert counts.loc[(20, 1998)].tolist() == [1, 1, 0]
    assert counts.loc[(40, 1980)].tolist() == [1, 1, 0]
    assert (70, 1979) not in counts.index and (20, 1999) not in counts.index
    assert list(counts.columns) == ["dca_count", "dca_general", "dca_sector"]
    with pytest.raises(ValueError, match="DCA start must be one of signature, entry_into_force, got 'ratified'"):
        dcas_in_force(AGREEMENTS, "ratified")


def test_coup_coding_attempts_successes_and_years_since_the_last_attempt():
    coups = pd.DataFrame({"ccode": [100, 100, 100, 200], "year": [1950, 1975, 1975, 1990], "coup": [1, 1, 2, 2]})
    events = coup_events(coups).set_index(["ccode", "year"])
    assert events.loc[(100, 1950)].tolist() == [1, 0]  # failed only
    assert events.loc[(100, 1975)].tolist() == [1, 1]  # a failed and a successful attempt in one year
    members = pd.DataFrame({"ccode": [100] * 4 + [200] * 3, "year": [1974, 1975, 1976, 1980, 1988, 1990, 1991]})
    since = years_since_coup(members, coups).set_index(["ccode", "year"])["years_since_coup"]
    assert since.loc[100].tolist() == [24, 25, 1, 5]  # the attempt of year t counts from t + 1
    assert since.loc[200].tolist() == [0, 2, 1]  # no earlier attempt: counted from the state's first year


def test_regime_types_are_exclusive_and_hybrids_with_a_personalist_element_are_personalist():
    gwf = pd.DataFrame({"cowcode": [1, 2, 3, 4, 5, 6, 7], "year": [2000] * 7, "gwf_regimetype": [
        "military", "military-personal", "party-military", "monarchy", "NA", "oligarchy", "party-personal"]})
    types = regime_types(gwf).set_index("ccode")[list(REGIME_TYPES)]
    assert types.sum(axis=1).tolist() == [1, 1, 1, 1, 0, 0, 1]
    assert types.idxmax(axis=1)[[1, 2, 3, 4, 7]].tolist() == [
        "military_regime", "personalist_regime", "party_regime", "monarchy", "personalist_regime"]


# ------------------------------------------------------------------------------------------- the real panel

@pytest.fixture(scope="module")
def country_year(raw_dir):
    raw = RawData(raw_dir)
    return raw, build_country_year_panel(raw)


def test_country_year_panel_dimensions_lags_and_samples(country_year):
    raw, ds = country_year
    assert dict(ds.sizes) == {"country": 199, "year": 30}
    assert ds["year"].values[[0, -1]].tolist() == [1981, 2010]
    assert ds.attrs["design"] == "country_year" and "GDP" in ds.attrs["substitutes"]
    assert set(COUNTRY_YEAR_VARIABLES) <= set(ds.data_vars)
    frame = ds.to_dataframe().reset_index()
    frame = frame[frame["in_panel"]]
    assert len(frame) == 5396 and int(frame["coup_attempt"].sum()) == 144
    # the treatment is the DCA count of the year before, and any_dca says whether it is positive
    in_force = dcas_in_force(raw.load("dcad")).set_index(["ccode", "year"])["dca_count"]
    usa = frame[frame["ccode"] == 2].set_index("year")
    assert usa.loc[1996, "dca_count"] == in_force.loc[(2, 1995)]
    assert ((frame["any_dca"] == 1) == (frame["dca_count"] > 0)).all()
    # controls present on every row of the sample with controls, outcome and treatment on the sample without
    controls = frame[frame["sample_controls"]]
    assert len(controls) == 4088 and controls["ccode"].nunique() == 154
    assert controls[["polity2", "military_regime", "cinc", "defense_pact"]].notna().all().all()
    assert frame.loc[frame["sample_no_controls"], ["coup_attempt", "any_dca"]].notna().all().all()


def test_country_year_panel_checksum_is_stable_and_follows_the_options(country_year, tmp_path):
    raw, ds = country_year
    again = read_panel(write_panel(ds, tmp_path / "panel.nc"))
    assert again.attrs["panel_checksum"] == ds.attrs["panel_checksum"]
    assert build_country_year_panel(raw).attrs["panel_checksum"] == ds.attrs["panel_checksum"]  # deterministic
    entry = build_country_year_panel(raw, CountryYearOptions(dca_start="entry_into_force"))
    assert entry.attrs["panel_checksum"] != ds.attrs["panel_checksum"]
    assert float(entry["dca_count"].sum()) < float(ds["dca_count"].sum())  # later start, fewer agreement-years


def test_country_year_window_outside_dcad_is_refused():
    with pytest.raises(DataError, match=r"year window 1975-2010 is outside 1981-2010: DCAD covers 1980-2010"):
        CountryYearOptions(start=1975)
    with pytest.raises(DataError, match="dca_start must be one of signature, entry_into_force, got 'ratified'"):
        CountryYearOptions(dca_start="ratified")


def test_data_command_country_year_and_its_bad_input(raw_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cy.nc"
    result = runner.invoke(app, ["data", "--design", "country_year", "--data-dir", str(raw_dir), "--out", str(out),
                                 "--start", "2000"])
    assert result.exit_code == 0, result.output
    assert read_panel(out).sizes["year"] == 11
    bad = runner.invoke(app, ["data", "--design", "monads", "--out", str(tmp_path / "x.nc")])
    assert bad.exit_code == 2 and "--design must be one of dyad, country_year, pact, got 'monads'" in bad.output
    mirror = symlink_mirror(raw_dir, tmp_path / "raw")
    (mirror / RAW_FILES["dcad"].relpath).unlink()
    missing = runner.invoke(app, ["data", "--design", "country_year", "--data-dir", str(mirror),
                                  "--out", str(tmp_path / "y.nc")])
    assert missing.exit_code == 2 and f"{RAW_FILES['dcad'].relpath}: raw file missing" in missing.output.replace(
        "\n", "")
    assert not (tmp_path / "y.nc").exists()


# ------------------------------------------------------------------------------------- recovery of a simulation

TRUTH = {"Intercept": -3.0, "any_dca": -0.8, "country_sd": 0.7}


def simulated_country_years(n_countries: int = 80, years: tuple[int, int] = (1981, 2010), seed: int = 3):
    """A country-year panel whose coups follow logit(p) = -3 - 0.8 any_dca + u_country, u ~ N(0, 0.7^2)."""
    rng = np.random.default_rng(seed)
    year_values = np.arange(years[0], years[1] + 1)
    frame = pd.DataFrame([(c, y) for c in range(1, n_countries + 1) for y in year_values], columns=["ccode", "year"])
    for name in COUNTRY_YEAR_VARIABLES:
        frame[name] = 0.0
    adopted = rng.integers(years[0], years[1] + 6, n_countries)[frame["ccode"] - 1]
    frame["any_dca"] = (frame["year"] >= adopted).astype(float)
    effect = rng.normal(0, TRUTH["country_sd"], n_countries)[frame["ccode"] - 1]
    eta = TRUTH["Intercept"] + TRUTH["any_dca"] * frame["any_dca"] + effect
    frame["coup_attempt"] = (rng.random(len(frame)) < 1 / (1 + np.exp(-eta))).astype(float)
    frame["sample_no_controls"] = frame["sample_controls"] = True
    ds = country_year_dataset(frame, pd.Series(dtype=str), years)
    ds.attrs = {"design": "country_year", "schema_version": 1}
    ds.attrs["panel_checksum"] = content_checksum(ds)
    return ds


@pytest.mark.slow  # 6 s of fitting; make test-slow
def test_country_intercept_model_recovers_simulated_parameters_and_odds_ratios():
    panel = simulated_country_years()
    model = cp.Model("coup_attempt ~ any_dca + (1 | country)", panel, name="dca_sim", sample="sample_no_controls")
    assert model.method == "marginal" and model.data.n_groups == 80
    fitted = model.fit(draws=300, tune=300, chains=2, seed=11, show=False)
    post = fitted.idata["posterior"]
    coef = post["coef"].stack(sample=("chain", "draw"))
    for term in ("Intercept", "any_dca"):
        draws = coef.sel(coef_term=term).to_numpy()
        assert abs(draws.mean() - TRUTH[term]) < 3 * draws.std(), (term, draws.mean(), draws.std())
    sd = post["country_sd"].to_numpy().ravel()
    assert abs(sd.mean() - TRUTH["country_sd"]) < 3 * sd.std()
    # without interactions the odds ratio of any DCA is exp(its coefficient), draw by draw
    ratios = odds_ratio_draws(fitted.idata, model.data, "any_dca")
    np.testing.assert_allclose(ratios.isel(contrast=0, point=0).to_numpy(),
                               np.exp(coef.sel(coef_term="any_dca").to_numpy()), rtol=1e-12)
    table = odds_ratios(fitted.idata, model.data, "any_dca")
    assert table["contrast"].tolist() == ["1 vs 0"]
    assert table["pr_below_1"].iloc[0] == pytest.approx((coef.sel(coef_term="any_dca") < 0).mean().item())


# ------------------------------------------------------------------------ the third design: pacts (Kim & Woods 2022)

def test_founding_phase_codes_follow_the_phase_of_the_first_entry_and_keep_missing_codes():
    from data_prep.institutions import founding_phase_codes

    inst = pd.DataFrame({"atopid": [1005, 1020, 1020, 1030], "atopidphase": [1005.0, 1020.1, 1020.2, 1030.0],
                         "milinst": [1.0, 2.0, 0.0, np.nan], "formal": [0.0, 1.0, 2.0, 1.0]})
    members = pd.DataFrame({"atopid": [1005, 1005, 1020, 1020, 1020, 1030, 1030],
                            "yrent": [1960, 1960, 1971, 1971, 1980, 1990, 1990],
                            "phase": [0, 0, 1, 1, 2, 0, 0]})
    codes = founding_phase_codes(inst, members).set_index("atopid")
    assert codes.loc[1005].tolist() == [1.0, 0.0]  # no phases: the alliance's own row
    assert codes.loc[1020].tolist() == [2.0, 1.0]  # the founding phase 1020.1, not the later 1020.2
    assert np.isnan(codes.loc[1030, "milinst"]) and codes.loc[1030, "formal"] == 1.0  # missing stays missing


def test_pact_frame_joins_each_new_pact_to_its_alliance_and_codes():
    from data_prep.institutions import pact_frame

    dyads = pd.DataFrame({"ccode_a": [100, 200, 100], "ccode_b": [200, 100, 300], "year": [1970, 1970, 1971],
                          "new_defense_pact": [1.0, 1.0, 0.0], "cinc_a": [0.01, 0.03, 0.01],
                          "cinc_b": [0.03, 0.01, 0.02], **{c: [0.0] * 3 for c in (
                              "counterbalancing_a", "recent_coup_a", "new_regime_a", "military_regime_a",
                              "regime_difference", "threat_a", "threat_b", "concessions_a", "concessions_b")}})
    alliances = pd.DataFrame({"atopid": [2000], "begyr": [1970], "endyr": [0], "bilat": [1], "defense": [1],
                              "version": [5.1]})
    members = pd.DataFrame({"atopid": [2000, 2000], "member": [100, 200], "yrent": [1970, 1970], "phase": [0, 0]})
    inst = pd.DataFrame({"atopid": [2000], "atopidphase": [2000.0], "milinst": [2.0], "formal": [1.0]})
    frame = pact_frame(dyads, alliances, members, inst)
    # one row per pact: of the two directions, State A is the weaker member (the client), 100 with share 0.25
    assert len(frame) == 1 and frame["atopid"].tolist() == [2000] and frame["ccode_a"].tolist() == [100]
    assert frame["milinst"].tolist() == [2.0]
    np.testing.assert_allclose(frame["capability_share_a"], [0.25])
    assert frame["sample_milinst"].all()
    # where only one direction is in the dyad panel (one nondemocratic member), that direction
    only = pact_frame(dyads.iloc[[1, 2]], alliances, members, inst)
    assert only["ccode_a"].tolist() == [200] and only["capability_share_a"].tolist() == [0.75]


def test_a_pact_panel_with_a_pact_twice_is_refused(tmp_path):
    from data_prep.institutions import check_one_row_per_pact
    from data_prep.panel import read_panel, write_panel
    from data_prep.sources import DataError

    frame = pd.DataFrame({"ccode_a": [100, 200, 300], "ccode_b": [200, 100, 400], "year": [1970, 1970, 1971],
                          "atopid": [2000, 2000, 2001]})
    with pytest.raises(DataError, match="the pact of 100 and 200 in 1970 \\(atopid 2000\\) has 2 rows"):
        check_one_row_per_pact(frame)
    check_one_row_per_pact(frame.iloc[1:])
    from data_prep.panel import SCHEMA_VERSION

    ds = xr.Dataset({"in_panel": ("pact", np.ones(3, bool))},
                    coords={"pact": np.arange(3), **{c: ("pact", frame[c].to_numpy()) for c in frame}},
                    attrs={"design": "pact", "schema_version": SCHEMA_VERSION})
    write_panel(ds, tmp_path / "pacts.nc")
    with pytest.raises(DataError, match="pacts.nc: pact panel: the pact of 100 and 200 .* rebuild it"):
        read_panel(tmp_path / "pacts.nc")
