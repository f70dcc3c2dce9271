"""The Bayesian report from small saved fits: every section present, every figure a valid PNG, tables written,
problems shown as banners, and bad input refused."""

from __future__ import annotations

import matplotlib.image
import pytest
from typer.testing import CliRunner

from coupproof.cli import app

runner = CliRunner()
SECTIONS = ("Overview: the interactions", "Population parameters", "Sign of the interaction",
            "Marginal effect of Counterbalancing, A",
            "Sampling diagnostics", "Posterior predictive checks", "Model comparison by leave-one-dyad-out")


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A synthetic panel in the real schema, Models 1 and 3 fitted briefly, and their frequentist results."""
    from simulate import synthetic_fits

    root = tmp_path_factory.mktemp("report")
    panel, fits = synthetic_fits(root, "m1,m3")
    result = _run("freq", "--models", "m1,m3", "--panel", panel, "--out", root / "freq")
    assert result.exit_code == 0, result.output
    return root, panel, fits


@pytest.fixture(scope="module")
def rendered(fitted):
    """The report of the fitted models (no sensitivity, robustness or calibration results): its folder."""
    root, panel, fits = fitted
    out = root / "report"
    result = _run("report", "--model", "m1,m3", "--fits", fits, "--panel", panel, "--freq",
                  root / "freq" / "fits.json", "--out", out, "--ppc-draws", "20", "--sensitivity", root / "none",
                  "--robustness", root / "none", "--validate", root / "none")
    assert result.exit_code == 0, result.output
    return out


def test_report_has_every_section_and_valid_figures(rendered):
    out = rendered
    text = (out / "report.html").read_text()
    assert "No prior-sensitivity results yet" in text and "No robustness results yet" in text
    assert "No calibration results yet" in text
    for section in SECTIONS:
        assert section in text, section
    assert "FIT FAILED ITS DIAGNOSTICS" in text  # 60 draws cannot reach ESS 400: the banner must show
    assert "m1, m3 (new_defense_pact, sample sample_no_controls)" in text
    figures = sorted((out / "figures").glob("*.png"))
    expected = {f"{m}_{kind}.png" for m in ("m1", "m3") for kind in
                ("marginal_effects", "predicted", "trace", "rank", "energy", "ppc_counts", "calibration")}
    assert expected <= {f.name for f in figures}
    for path in figures:
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and min(image.shape[:2]) > 100, path
    assert text.count("data:image/png;base64,") == len(figures)  # every figure embedded
    assert (out / "figures" / "compare_m1_m3.png").exists()
    tables = {p.name for p in (out / "tables").glob("*.csv")}
    assert {"m1_population.csv", "m1_marginal_effects.csv", "m3_ppc_decade.csv", "loo.csv", "overview.csv"} <= tables
    import pandas as pd

    overview = pd.read_csv(out / "tables" / "overview.csv")
    assert list(overview["model"]) == ["m1", "m3"] and overview["freq"].notna().all()


BROWSER_CHECK = """<script>
window.addEventListener("load", () => {
  const width = window.innerWidth;
  const result = {
    width: width,
    page_width: document.documentElement.scrollWidth,
    images: document.images.length,
    broken: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length,
    tables: document.querySelectorAll("table").length,
    too_wide: [...document.querySelectorAll("table")].filter(t => t.getBoundingClientRect().right > width).length,
    toc: [...document.querySelectorAll("nav.toc a")].map(a => a.getAttribute("href")),
    sections: [...document.querySelectorAll("h2")].map(h => h.id),
    broken_numbers: [],  // every number in a table cell that the layout spread over more than one line
  };
  for (const cell of document.querySelectorAll("td, th")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.textContent.matchAll(/[-+]?[0-9][0-9,]*(?:[.][0-9]+)?(?:e[-+]?[0-9]+)?/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) result.broken_numbers.push(m[0]);
      }
    }
  }
  const out = document.createElement("pre");
  out.id = "browser-check";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>"""


def browser_check(report, tmp_path) -> dict:
    """What headless Chromium sees of the report in a 1280-pixel window, from a copy with a checking script."""
    import html
    import json
    import re
    import shutil
    import subprocess

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium is not installed (make test installs Debian's chromium package where it can)")
    page = tmp_path / "checked.html"
    page.write_text(report.read_text().replace("</body>", BROWSER_CHECK + "</body>"))
    run = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                          "--window-size=1280,900", "--virtual-time-budget=20000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', run.stdout, re.S)
    assert found, f"no result from Chromium (exit {run.returncode}): {run.stderr[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def test_report_in_a_real_browser(rendered, tmp_path):
    """Headless Chromium: every image loads, no table (and not the page) is wider than a 1280-pixel window, no
    number in a table is broken across lines, and the table of contents links every top-level section, each
    model's included."""
    seen = browser_check(rendered / "report.html", tmp_path)
    assert seen["width"] == 1280 and seen["images"] >= 14 and seen["broken"] == 0
    assert seen["tables"] > 5 and seen["too_wide"] == 0 and seen["page_width"] <= 1280
    assert seen["broken_numbers"] == []
    assert seen["toc"] == [f"#{s}" for s in seen["sections"]] and {"#m1", "#m3"} <= set(seen["toc"])


def test_missing_and_foreign_fits_are_shown_and_a_damaged_one_refused(fitted, tmp_path):
    root, panel, fits = fitted
    folder = tmp_path / "fits"
    folder.mkdir()
    (folder / "m1_marginal.nc").write_bytes((fits / "m1_marginal.nc").read_bytes())
    (folder / "m3_marginal.nc").write_bytes(b"not a netCDF file")
    other = tmp_path / "other_panel.nc"
    from simulate import synthetic_panel_file

    synthetic_panel_file(other, seed=5)  # different contents, different checksum
    result = _run("report", "--model", "m1,m3", "--fits", folder, "--panel", other, "--out", tmp_path / "report")
    assert result.exit_code == 2 and "m3_marginal.nc: not a readable fit file" in " ".join(result.output.split())
    assert not (tmp_path / "report").exists()
    result = _run("report", "--model", "m1,h1", "--fits", folder, "--panel", other, "--freq",
                  tmp_path / "absent.json", "--out", tmp_path / "report", "--ppc-draws", "10")
    assert result.exit_code == 2 and "other_panel.nc: none of the fits (m1) was made from this panel" in \
        " ".join(result.output.split())  # a foreign panel: nothing to report on
    result = _run("report", "--model", "m1,h1", "--fits", folder, "--panel", panel, "--freq",
                  tmp_path / "absent.json", "--out", tmp_path / "report", "--ppc-draws", "10")
    assert result.exit_code == 0, result.output
    text = " ".join((tmp_path / "report" / "report.html").read_text().split())
    assert "h1: " in text and "fit file not found" in text
    assert "frequentist results not found" in text


def test_a_fit_of_another_model_under_a_models_name_is_refused(fitted, tmp_path):
    """m1's fit copied to m3's file name: the report names the file and both models, writes nothing and exits 2."""
    _root, panel, fits = fitted
    folder = tmp_path / "fits"
    folder.mkdir()
    (folder / "m3_marginal.nc").write_bytes((fits / "m1_marginal.nc").read_bytes())
    result = _run("report", "--model", "m3", "--fits", folder, "--panel", panel, "--out", tmp_path / "report")
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "m3_marginal.nc: a fit of model m1, not of m3 as asked; refit it ('coupproof fit --model m3')" in message
    assert not (tmp_path / "report").exists()


def test_report_bad_input(tmp_path, fitted):
    _root, panel, _fits = fitted
    (tmp_path / "fits").mkdir()
    result = _run("report", "--fits", tmp_path / "fits", "--panel", panel, "--out", tmp_path / "r")
    assert result.exit_code == 2 and "no readable fit" in result.output
    result = _run("report", "--model", "m9", "--panel", panel)
    assert result.exit_code == 2 and "unknown model(s) m9" in result.output
    assert not (tmp_path / "r").exists()


S = "sample_no_controls"
VARIED = {  # one of each case the report must handle without the paper's structure
    "s_state": ("new_defense_pact ~ counterbalancing_a + threat_a + (1 | state_a)", {}),  # no interaction
    "s_plain": ("new_defense_pact ~ np.log1p(counterbalancing_a) * threat_b + (1 | dyad)", {"method": "plain"}),
    "s_hurdle": ("concessions_a ~ counterbalancing_a * threat_a + (1 | dyad)",
                 {"family": "hurdle_negbinomial", "count_formula": "~ threat_a"}),
    "s_ordinal": ("pact_level ~ counterbalancing_a * threat_b + (1 | dyad)", {"family": "cumulative"}),
    "s_nogroup": ("new_defense_pact ~ counterbalancing_a * threat_b", {}),  # no group: plain, conditional only
}


def _varied_panel(path):
    """The synthetic panel with counts of concessions for the pacts, an ordinal outcome, and threat to A given a
    long name of its own (the report must take labels from the panel)."""
    import numpy as np
    import xarray as xr

    from data_prep.panel import content_checksum, read_panel, write_panel
    from simulate import synthetic_panel_file

    synthetic_panel_file(path)
    ds = read_panel(path)
    pact = ds["new_defense_pact"]
    counts = 1.0 + np.random.default_rng(3).poisson(1.0, pact.shape)
    ds["concessions_a"] = xr.where(pact > 0, counts, np.nan).assign_attrs(ds["concessions_a"].attrs)
    level = (ds["threat_a"] > 0.5).astype(float) + (pact > 0)
    ds["pact_level"] = level.where(pact.notnull()).assign_attrs(long_name="Pact level")
    ds["threat_a"].attrs["long_name"] = "Threat to A (from the panel)"
    ds.attrs["panel_checksum"] = content_checksum(ds)
    return write_panel(ds, path)


def _fit_and_save(spec, panel, folder):
    """Fit briefly through the API and save as the report reads it (<name>_<method>.nc)."""
    from coupproof.api import Model

    model = Model(spec, panel)
    fit = model.fit(draws=40, tune=40, chains=2, show=False)
    assert "log_prior" in fit.idata.children  # every family, the ordinal one too (power-scaling reads it)
    fit.save(folder / f"{spec.name}_{model.method}.nc")


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    from models.specs import ModelSpec

    root = tmp_path_factory.mktemp("varied")
    panel = _varied_panel(root / "panel.nc")
    specs = {name: ModelSpec(name, formula, sample=S, **options) for name, (formula, options) in VARIED.items()}
    for spec in specs.values():
        _fit_and_save(spec, panel, root / "fits")
    return root, panel, specs


@pytest.mark.slow  # 40 s of fitting; make test-slow
def test_report_of_any_spec_skips_what_does_not_apply(varied):
    """No interaction, a state grouping, method plain, a hurdle with its own count terms, an ordinal model and
    no group at all: every model is reported, and each section that does not apply is a one-line note."""
    import pandas as pd

    from coupproof.stages import QUIET, ReportSettings, report

    root, panel, specs = varied
    out, none = root / "report", root / "none"
    settings = ReportSettings(models=tuple(specs), fits=root / "fits", panel=panel, freq=none / "fits.json",
                              specs=specs, ppc_draws=10, sensitivity=none, robustness=none, validate=none)
    report(settings, QUIET).write(out)
    text = " ".join((out / "report.html").read_text().split())
    for name in specs:
        assert f'id="{name}"' in text
    assert "Not shown: the formula has no two-way interaction" in text  # s_state
    assert "Checks of events not shown: they need the marginal kernel, and this fit used method plain" in text
    assert "Not shown: effect curves on the probability scale are drawn for binary and hurdle outcomes" in text
    assert "Counts: Concessions, A" in text and "Threat to A (from the panel)" in text
    assert "Model comparison by leave-one-group-out PSIS-LOO (state_a, dyad)" in text
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"s_state_calibration.png", "s_hurdle_rootogram.png", "s_hurdle_counts.png",
            "s_plain_marginal_effects.png", "s_nogroup_predicted.png", "s_ordinal_trace.png"} <= figures
    assert not {"s_state_marginal_effects.png", "s_plain_calibration.png", "s_ordinal_predicted.png"} & figures
    tables = out / "tables"
    assert set(pd.read_csv(tables / "s_nogroup_marginal_effects.csv")["kind"]) == {"conditional"}
    assert set(pd.read_csv(tables / "s_plain_marginal_effects.csv")["focal"]) == {"counterbalancing_a"}
    loo = pd.read_csv(tables / "loo.csv")
    assert dict(zip(loo["model"], loo["grouping"])) == {"s_state": "state_a", "s_hurdle": "dyad"}
    ordinal = pd.read_csv(tables / "s_ordinal_population.csv")
    assert (ordinal["label"] == "cut point 0.0|1.0").any() and set(ordinal["part"]) == {"ordinal", "random effects"}
    hurdle = pd.read_csv(tables / "s_hurdle_population.csv").set_index(["part", "term"])
    assert list(hurdle.loc["count"].index) == ["Intercept", "threat_a", "count_alpha"]
    assert hurdle.loc[("zero", "counterbalancing_a:threat_a"), "label"] == \
        "Counterbalancing, A × Threat to A (from the panel)"
    overview = pd.read_csv(tables / "overview.csv")
    assert "s_state" not in set(overview["model"]) and len(overview) == 4
    counts = pd.read_csv(tables / "s_hurdle_count_identification.csv")
    assert list(counts["term"]) == ["threat_a"] and 0 < counts["posterior_over_prior_iqr"].iloc[0] < 2
    assert "The count part rests on" in text and "posterior / prior IQR" in text


def test_count_part_identification_compares_posterior_and_prior_spread():
    """A posterior equal to the prior keeps its whole spread (ratio 1); one a tenth as wide gives 0.1."""
    import numpy as np
    import xarray as xr

    from models.priors import parse_priors
    from reports.posterior_tables import count_part_identification

    rng = np.random.default_rng(3)
    beta = np.stack([rng.normal(0, 0.5, (2, 4000)), rng.normal(1, 0.05, (2, 4000))], axis=-1)
    posterior = xr.Dataset({"count_beta": (("chain", "draw", "count_term"), beta)},
                           coords={"count_term": ["weak", "strong"]})
    tree = xr.DataTree.from_dict({"posterior": posterior})
    prior = parse_priors({"count_slopes": {"dist": "Normal", "mu": 0.0, "sigma": 0.5,
                                           "scale_rule": "per_sd"}})["count_slopes"]
    table = count_part_identification(tree, prior).set_index("term")
    assert table.loc["weak", "posterior_over_prior_iqr"] == pytest.approx(1.0, abs=0.05)
    assert table.loc["strong", "posterior_over_prior_iqr"] == pytest.approx(0.1, abs=0.01)
    assert table.loc["strong", "pr_positive"] == 1.0 and table.loc["weak", "pr_positive"] == pytest.approx(0.5, abs=0.03)


def test_report_and_frequentist_results_round_trip(fitted, rendered, tmp_path):
    """The stage results the report is built from and the report itself read back as they were written."""
    from round_trip import assert_round_trip

    from coupproof.stages import FrequentistResult, ReportResult

    root, _panel, _fits = fitted
    report = assert_round_trip(ReportResult, rendered, tmp_path / "report")
    assert {"overview", "loo", "m1_population"} <= set(report.tables) and "m1_trace" in report.figures
    freq = assert_round_trip(FrequentistResult, root / "freq", tmp_path / "freq")
    assert {f.model for f in freq.fits} == {"m1", "m3"}
