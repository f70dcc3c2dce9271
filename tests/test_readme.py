"""The README's Python quickstart, run as written on a small synthetic panel at build/panel.nc, with Model 1 for
Model 4 (the synthetic panel holds Models 1 and 3's variables) and short chains; then the saved fit is read back
without naming its panel (issue 32: a fit knows where its data came from)."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"
SUBSTITUTIONS = (('"m4"', '"m1"'), ("m4_marginal", "m1_marginal"), ("draws=1000", "draws=150, tune=150"),
                 ('by="threat_b"', 'by="threat_a"'))


def quickstart() -> str:
    """The README's first Python block, with the substitutions above (each must apply)."""
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    for old, new in SUBSTITUTIONS:
        assert old in block, f"the README's quickstart no longer has {old}"
        block = block.replace(old, new)
    return block


def test_the_readme_quickstart_runs_and_its_fit_reloads(tmp_path, monkeypatch):
    from simulate import synthetic_panel_file

    monkeypatch.chdir(tmp_path)
    synthetic_panel_file(tmp_path / "build" / "panel.nc")
    names: dict = {}
    exec(quickstart(), names)  # noqa: S102 - the README's own code
    import coupproof as cp

    again = cp.load_fit("build/fits/m1_marginal.nc")  # no panel= : the fit records build/panel.nc
    assert again.model.data.n_groups == names["fit"].model.data.n_groups
    np.testing.assert_array_equal(again.idata["posterior"]["coef"], names["fit"].idata["posterior"]["coef"])
