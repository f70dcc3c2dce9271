"""The family registry and the fit record: every family declares its parts, priors and report sections; no module
outside the registry compares family names; a fit's record round-trips through its attrs, and a fit of another
format version is refused with one line saying how to refit."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from models.families import FAMILIES, SECTIONS, FamilyError, get_family
from models.priors import GROUPS

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ("data_prep", "models", "inference", "reports", "coupproof")


def test_every_family_declares_parts_priors_and_sections():
    for family in FAMILIES.values():
        assert family.parts and family.main is family.parts[0] and family.main.variable == "coef"
        assert set(family.priors) <= set(GROUPS) and set(family.sections) <= set(SECTIONS)
        assert family.quantities
    hurdle = get_family("hurdle_negbinomial")
    assert [p.name for p in hurdle.parts] == ["zero", "count"] and hurdle.part("count_coef").link == "log"
    assert hurdle.count == "negbin" and "count_alpha" in hurdle.priors and hurdle.event("y") == "y > 0"
    ordinal = get_family("cumulative")
    assert not ordinal.intercept and not ordinal.marginal and ordinal.main.name == "ordinal"
    assert not ordinal.has("effect_curves") and get_family("bernoulli").event_label("pact") == "Pr(pact)"
    with pytest.raises(FamilyError, match="unknown family 'probit'; use one of bernoulli, "):
        get_family("probit")
    with pytest.raises(KeyError, match="no part with coefficients 'count_coef'"):
        get_family("bernoulli").part("count_coef")


def family_comparisons(path: Path) -> list[int]:
    """Lines of a file that compare something with a family's name (==, !=, in) or test it with startswith."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            names = [c.value for o in operands for c in ast.walk(o) if isinstance(c, ast.Constant)]
            if any(isinstance(n, str) and (n in FAMILIES or n == "hurdle") for n in names):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "startswith":
            if any(isinstance(a, ast.Constant) and a.value == "hurdle" for a in node.args):
                lines.append(node.lineno)
    return lines


def test_no_module_outside_the_registry_compares_family_names():
    found = {str(p.relative_to(ROOT)): lines for package in LIBRARY for p in (ROOT / package).rglob("*.py")
             if p.name != "families.py" and (lines := family_comparisons(p))}
    assert not found, f"family names compared outside models/families.py: {found}"


def test_the_family_check_sees_a_comparison(tmp_path):
    path = tmp_path / "x.py"
    path.write_text('if spec.family == "cumulative":\n    pass\nok = spec.family.startswith("hurdle")\n')
    assert family_comparisons(path) == [1, 3]


def _tree(record) -> xr.DataTree:
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"coef": (("chain", "draw"), np.zeros((1, 3)))})})
    tree.attrs = record.to_attrs()
    return tree


def test_the_fit_record_round_trips_through_netcdf(tmp_path):
    from simulate import fake_record

    from inference.record import PanelRef
    from inference.store import load_fit_with_record, save_fit
    from models.specs import PAPER_MODELS

    record = fake_record(PAPER_MODELS["h2"], prior_set="wide", panel=PanelRef("p.nc", "abc", "SSF substitute"),
                         diagnostics_passed=False, diagnostics_problems=("R-hat > 1.01 for coef",), n_events=7)
    save_fit(_tree(record), tmp_path / "h2.nc")
    tree, again = load_fit_with_record(tmp_path / "h2.nc")
    assert again == record and again.family.is_hurdle and again.model == "h2"
    assert tree.attrs["formula"] == PAPER_MODELS["h2"].formula  # written out plainly for other tools too


def test_a_fit_of_another_format_version_is_refused_with_how_to_refit(tmp_path):
    from simulate import fake_record

    from inference.record import FORMAT_KEY
    from inference.store import FitFileError, load_fit, save_fit
    from models.specs import PAPER_MODELS

    tree = _tree(fake_record(PAPER_MODELS["m1"]))
    tree.attrs[FORMAT_KEY] = 1
    save_fit(tree, tmp_path / "old.nc")
    with pytest.raises(FitFileError, match=r"old.nc: written by another version of coupproof \(fit format 1; this "
                                           r"version reads format 2\); refit it with 'coupproof fit'"):
        load_fit(tmp_path / "old.nc")
    del tree.attrs[FORMAT_KEY]
    save_fit(tree, tmp_path / "older.nc")
    with pytest.raises(FitFileError, match=r"older.nc: written by another version of coupproof \(no format version"):
        load_fit(tmp_path / "older.nc")
    tree = _tree(fake_record(PAPER_MODELS["m1"]))
    tree.attrs["sampler"] = '{"draws": 0}'
    save_fit(tree, tmp_path / "bad.nc")
    with pytest.raises(FitFileError, match=r"bad.nc: its record cannot be used \(draws must be a whole number"):
        load_fit(tmp_path / "bad.nc")
