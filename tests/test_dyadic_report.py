"""The dyadic-dependence table (reports.dyadic): hand-made fits with known draws give known rows and verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from simulate import fake_record

from models.specs import ModelSpec
from reports.dyadic import dependence_table, verdict

TERMS = ["Intercept", "counterbalancing_a", "threat_b", "counterbalancing_a:threat_b"]


def write_fit(path, spec: ModelSpec, key_draws: np.ndarray, sds: dict[str, float], passed: bool = True) -> None:
    draws = np.zeros((2, len(key_draws) // 2, len(TERMS)))
    draws[..., -1] = key_draws.reshape(2, -1)
    post = xr.Dataset({"coef": (("chain", "draw", "coef_term"), draws),
                       **{name: (("chain", "draw"), np.full(draws.shape[:2], value)) for name, value in sds.items()}},
                      coords={"coef_term": TERMS})
    tree = xr.DataTree.from_dict({"posterior": post})
    tree.attrs = fake_record(spec, diagnostics_passed=passed).to_attrs()
    tree.to_netcdf(path)


def test_dependence_table_and_verdicts(tmp_path):
    formula = "new_defense_pact ~ counterbalancing_a + threat_b + counterbalancing_a:threat_b + (1 | dyad)"
    base = ModelSpec("m4", formula)
    srd = ModelSpec("m4_srd", formula.replace("(1 | dyad)", "(1 | dyad) + (1 | state_a) + (1 | state_b)"))
    (tmp_path / "fits").mkdir()
    (tmp_path / "dyadic").mkdir()
    rng = np.random.default_rng(0)
    write_fit(tmp_path / "fits" / "m4_marginal.nc", base, rng.normal(-5.0, 1.0, 2000), {"dyad_sd": 0.3})
    write_fit(tmp_path / "dyadic" / "m4_srd_marginal.nc", srd, rng.normal(-1.0, 1.0, 2000),
              {"dyad_sd": 0.2, "state_a_sd": 1.0, "state_b_sd": 1.5})
    freq = pd.DataFrame({"model": ["m4"], "part": ["logit"], "term": ["counterbalancing_a:threat_b"],
                         "ours": [-5.0], "our_se": [1.0], "our_se_dyad_robust": [2.5]})
    table = dependence_table(tmp_path / "dyadic", tmp_path / "fits", {"m4_srd": "m4"}, freq)
    row = table.iloc[0]
    assert row["model"] == "m4_srd" and row["base"] == "m4" and row["term"] == "counterbalancing_a:threat_b"
    assert abs(row["base_mean"] + 5.0) < 0.1 and row["base_upper"] < 0
    assert abs(row["srd_mean"] + 1.0) < 0.1 and row["srd_lower"] < 0 < row["srd_upper"]
    np.testing.assert_allclose(row[["dyad_sd", "state_a_sd", "state_b_sd"]].astype(float), [0.2, 1.0, 1.5])
    assert abs(row["freq_p_clustered"] - 5.7e-7) < 1e-7 and abs(row["freq_p_dyad_robust"] - 0.0455) < 1e-3
    assert row["verdict"] == "weakened (HDI includes 0)" and bool(row["freq_dyad_robust_significant"])


def test_verdict_rules():
    row = pd.Series({"base_lower": -8.0, "base_upper": -2.0, "srd_lower": -6.0, "srd_upper": -0.1,
                     "base_passed": True, "srd_passed": True})
    assert verdict(row) == "survives (HDI still excludes 0)"
    assert verdict(row.copy().replace({-0.1: 0.5})) == "weakened (HDI includes 0)"
    reversed_row = row.copy()
    reversed_row[["srd_lower", "srd_upper"]] = [0.5, 3.0]
    assert verdict(reversed_row) == "reversed"
    failed = row.copy()
    failed["srd_passed"] = False
    assert verdict(failed).startswith("not judged")
    nothing = row.copy()
    nothing[["base_lower", "base_upper"]] = [-1.0, 1.0]
    assert verdict(nothing).startswith("no finding")
