"""Model formulas and specs: every kind of term `Formula.parse` takes (and the design columns `model_data` builds from
it, checked against values computed by hand), every refusal with its exact message, bad panels in `model_data`, user
spec files and the paper's six specs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.design import model_data
from models.formula import Formula, FormulaError
from models.specs import PAPER_MODELS, ModelSpec, SpecError, load_specs
from simulate import simulated_panel


GROUPINGS = (" (one group per combination, e.g. (1 | ccode1:ccode2) for directed dyads) or pair(a, b) (the two "
             "columns in either order, e.g. (1 | pair(ccode1, ccode2)) for undirected dyads)")

@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """A small simulated dyad panel (12 dyads x 4 years) with extra columns: a third covariate, a category with
    three levels, a positive variable for transforms and a `country` column (a grouping that is a panel
    variable)."""
    frame = simulated_panel(n_dyads=12, years=4, seed=5)
    rng = np.random.default_rng(5)
    frame["z"] = rng.normal(0, 1, len(frame))
    frame["kind"] = np.array(["lo", "mid", "hi"])[np.arange(len(frame)) % 3]
    frame["count"] = rng.poisson(2.0, len(frame)).astype(float)
    frame["country"] = np.where(frame["ccode_b"] % 3 == 0, "Freedonia", np.where(frame["ccode_b"] % 3 == 1,
                                                                                "Sylvania", "Latveria"))
    return frame


def parse(text: str) -> Formula:
    return Formula.parse(text)


def spec_error(**fields) -> str:
    with pytest.raises(SpecError) as info:
        ModelSpec("t", **fields)
    return str(info.value)


# ---------------------------------------------------------------------------------------------------------------------
# Parsing each kind of term, and the design it gives


def test_plain_variables_without_a_group(frame):
    f = parse("y ~ cb + threat")
    assert (f.response, f.terms, f.intercept, f.group, f.year_effects) == ("y", ("cb", "threat"), True, None, False)
    assert f.variables == ("cb", "threat") and f.categorical == () and f.interactions == ()
    assert f.common == "y ~ 1 + cb + threat"
    data = model_data(frame, ModelSpec("t", f.text))
    assert list(data.X.columns) == ["Intercept", "cb", "threat"]
    np.testing.assert_array_equal(data.X["Intercept"], 1.0)
    np.testing.assert_array_equal(data.X["cb"], frame["cb"])
    np.testing.assert_array_equal(data.y, frame["y"])
    assert data.groups is None and data.group_labels is None and data.n_groups == 0 and data.years is None


def test_two_way_interaction_with_star_and_colon(frame):
    star, colon = parse("y ~ cb * threat + (1 | dyad)"), parse("y ~ cb + threat + cb:threat + (1 | dyad)")
    assert star.terms == colon.terms == ("cb", "threat", "cb:threat")
    assert star.interactions == colon.interactions == (("cb", "threat"),)
    assert star.variables == ("cb", "threat") and star.group == "dyad"
    X_star = model_data(frame, ModelSpec("t", star.text)).X
    X_colon = model_data(frame, ModelSpec("t", colon.text)).X
    pd.testing.assert_frame_equal(X_star, X_colon)
    np.testing.assert_allclose(X_star["cb:threat"], frame["cb"] * frame["threat"], rtol=1e-15)
    assert ModelSpec("t", star.text).interaction == ("cb", "threat")


def test_three_way_interaction(frame):
    f = parse("y ~ cb * threat * z + (1 | dyad)")
    assert f.terms == ("cb", "threat", "cb:threat", "z", "cb:z", "threat:z", "cb:threat:z")
    assert f.interactions == (("cb", "threat"), ("cb", "z"), ("threat", "z"), ("cb", "threat", "z"))
    assert f.variables == ("cb", "threat", "z")
    X = model_data(frame, ModelSpec("t", f.text)).X
    assert list(X.columns) == ["Intercept", *f.terms]
    np.testing.assert_allclose(X["cb:threat:z"], frame["cb"] * frame["threat"] * frame["z"], rtol=1e-14)
    np.testing.assert_allclose(X["threat:z"], frame["threat"] * frame["z"], rtol=1e-14)
    colon = parse("y ~ cb:threat:z + cb")
    assert colon.terms == ("cb:threat:z", "cb") and colon.interactions == (("cb", "threat", "z"),)
    spec = ModelSpec("t", f.text)
    assert spec.interaction == ("cb", "threat")  # the first two-way interaction is the focus by default
    assert ModelSpec("t", f.text, focus=("threat", "z")).interaction_term == "threat:z"
    assert ModelSpec("t", colon.text).interaction is None  # a three-way term alone has no two-way focus


def test_categorical_dummies(frame):
    f = parse("y ~ C(kind) + cb")
    assert f.terms == ("C(kind)", "cb") and f.variables == ("kind", "cb") and f.categorical == ("kind",)
    data = model_data(frame, ModelSpec("t", f.text))
    assert list(data.X.columns) == ["Intercept", "C(kind)[lo]", "C(kind)[mid]", "cb"]  # 'hi' (first sorted) dropped
    np.testing.assert_array_equal(data.X["C(kind)[lo]"], (frame["kind"] == "lo").astype(float))
    np.testing.assert_array_equal(data.X["C(kind)[mid]"], (frame["kind"] == "mid").astype(float))
    new = data.new_design(pd.DataFrame({"kind": ["mid", "hi"], "cb": [1.0, 2.0]}))
    np.testing.assert_array_equal(new.to_numpy(), [[1, 0, 1, 1.0], [1, 0, 0, 2.0]])


def test_numpy_transform_and_identity_power(frame):
    f = parse("y ~ np.log1p(count) + I(cb**2) + cb")
    assert f.terms == ("np.log1p(count)", "I(cb ** 2)", "cb") and f.variables == ("count", "cb")
    X = model_data(frame, ModelSpec("t", f.text)).X
    assert list(X.columns) == ["Intercept", "np.log1p(count)", "I(cb ** 2)", "cb"]
    np.testing.assert_allclose(X["np.log1p(count)"], np.log1p(frame["count"]), rtol=1e-15)
    np.testing.assert_allclose(X["I(cb ** 2)"], frame["cb"] ** 2, rtol=1e-15)


def test_dyad_grouping(frame):
    f = parse("y ~ cb + (1 | dyad)")
    assert f.group == "dyad" and not f.year_effects and f.terms == ("cb",) and f.variables == ("cb",)
    data = model_data(frame, ModelSpec("t", f.text))
    assert data.n_groups == 12 and list(data.group_labels.columns) == ["ccode_a", "ccode_b"]
    assert data.group_labels.index.name == "dyad"
    key = frame["ccode_a"] * 10_000 + frame["ccode_b"]
    np.testing.assert_array_equal(data.groups, pd.factorize(key, sort=True)[0])
    labels = data.group_labels.iloc[data.groups].reset_index(drop=True)  # each row's labels are its own states
    np.testing.assert_array_equal(labels[["ccode_a", "ccode_b"]], frame[["ccode_a", "ccode_b"]])


def test_undirected_dyad_grouping_joins_both_directions():
    frame = pd.DataFrame({"ccode_a": [2, 20, 2, 20, 2, 31], "ccode_b": [20, 2, 20, 2, 31, 2],
                          "y": [0.0, 1, 0, 0, 1, 0], "x": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]})
    f = parse("y ~ x + (1 | undirected_dyad)")
    assert f.group == "undirected_dyad"
    data = model_data(frame, ModelSpec("t", f.text))
    np.testing.assert_array_equal(data.groups, [0, 0, 0, 0, 1, 1])  # 2-20 and 20-2 are one undirected dyad
    assert data.group_labels.to_dict("list") == {"ccode_a": [2, 2], "ccode_b": [20, 31]}
    directed = model_data(frame, ModelSpec("t", "y ~ x + (1 | dyad)"))
    np.testing.assert_array_equal(directed.groups, [0, 2, 0, 2, 1, 3])


def test_state_grouping(frame):
    frame = frame.assign(ccode_a=100 + frame.index % 5, stateabb_a=[f"S{i % 5}" for i in frame.index])
    f = parse("y ~ cb + (1 | state_a)")
    assert f.group == "state_a"
    data = model_data(frame, ModelSpec("t", f.text))
    assert data.n_groups == 5
    np.testing.assert_array_equal(data.groups, frame.index % 5)
    assert data.group_labels.to_dict("list") == {"ccode_a": [100, 101, 102, 103, 104],
                                                 "stateabb_a": ["S0", "S1", "S2", "S3", "S4"]}
    assert ModelSpec("t", f.text).group_sd == "state_a_sd"


def test_grouping_by_a_panel_variable(frame):
    f = parse("y ~ cb + (1 | country)")
    assert f.group == "country" and f.variables == ("cb",)  # the grouping is not a covariate
    spec = ModelSpec("t", f.text)
    assert spec.group_sd == "country_sd" and spec.variables == ("y", "cb")
    data = model_data(frame, spec)
    assert data.group_labels["country"].tolist() == ["Freedonia", "Latveria", "Sylvania"]  # sorted codes
    np.testing.assert_array_equal(data.group_labels["country"].to_numpy()[data.groups], frame["country"])


def test_pooled_years(frame):
    f = parse("y ~ cb + (1 | year)")
    assert f.year_effects and f.group is None
    data = model_data(frame, ModelSpec("t", f.text))
    assert data.groups is None and list(data.year_labels) == [0, 1, 2, 3]
    np.testing.assert_array_equal(data.years, frame["year"])
    both = parse("y ~ cb + (1 | dyad) + (1 | year)")
    assert both.group == "dyad" and both.year_effects
    spec = ModelSpec("t", both.text)
    assert spec.fit_method == "marginal" and spec.year_effects


def test_no_intercept_and_fit_methods():
    f = parse("y ~ 0 + cb")
    assert not f.intercept and f.common == "y ~ 0 + cb" and not parse("y ~ cb - 1").intercept
    assert ModelSpec("t", "y ~ 0 + cb + (1 | dyad)", family="cumulative").fit_method == "plain"
    assert ModelSpec("t", "y ~ cb").fit_method == "plain"  # no group: nothing to integrate out
    assert ModelSpec("t", "y ~ cb + (1 | dyad)", family="hurdle_negbinomial").fit_method == "marginal"
    assert ModelSpec("t", "y ~ cb + (1 | dyad)", method="plain").fit_method == "plain"


# ---------------------------------------------------------------------------------------------------------------------
# Refusals, with their exact messages


SLOPES_ONLY = ("the grouping dyad has group-specific slopes, which only a sampled grouping can have: the kernel "
               "integrates one grouping's intercepts out, so add a grouping without slopes, e.g. (1 | dyad)")


@pytest.mark.parametrize("text, message", [
    ("y ~ cb + (threat | dyad)", "formula: " + SLOPES_ONLY),
    ("y ~ cb + (1 + threat | dyad)", "formula: " + SLOPES_ONLY),
    ("y ~ cb + (1 | np.log(g))", "formula: (1 | np.log(g)): a grouping is a column, columns joined by ':'" + GROUPINGS),
    ("y ~ cb + (1 | pair(g, g))",
     "formula: (1 | pair(g, g)): a grouping is a column, columns joined by ':'" + GROUPINGS),
    ("y ~ cb +", "formula: cannot parse 'y ~ cb +' (ParseError: Don't know how to parse '')"),
    ("y ~ (cb", "formula: cannot parse 'y ~ (cb' (ParseError: Expect ')' after expression.)"),
    ("y cb + threat", "formula: a formula is 'outcome ~ terms', got 'y cb + threat'"),
])
def test_formula_refusals(text, message):
    with pytest.raises(FormulaError) as info:
        Formula.parse(text)
    assert str(info.value) == message
    assert spec_error(formula=text) == f"model t: {message}"  # the spec names the model


def test_a_formula_must_be_a_string():
    with pytest.raises(FormulaError) as info:
        Formula.parse(3, "count_formula")
    assert str(info.value) == "count_formula: a formula is 'outcome ~ terms', got 3"
    assert spec_error(formula=3) == "model t: formula must be a string, got 3"


@pytest.mark.parametrize("fields, message", [
    ({"formula": "y ~ cb", "family": "probit"},
     "model t: family must be one of bernoulli, hurdle_poisson, hurdle_negbinomial, cumulative, got 'probit'"),
    ({"formula": "y ~ cb + (1 | dyad)", "method": "fast"},
     "model t: method must be one of marginal, plain, got 'fast'"),
    ({"formula": "y ~ cb + (1 | year)", "method": "marginal"},
     "model t: method marginal is not available: the formula has no group intercept (1 | group); use method plain"),
    ({"formula": "y ~ cb + (1 | dyad)", "family": "cumulative", "method": "marginal"},
     "model t: method marginal is not available: the kernel integrates group intercepts out of logit likelihoods "
     "only; use method plain"),
    ({"formula": "y ~ cb + threat + (1 | dyad)", "focus": ("cb", "threat")},
     "model t: focus ['cb', 'threat'] must name a two-way interaction of the formula (its interactions: none)"),
    ({"formula": "y ~ cb * threat * z", "focus": ("cb", "threat", "z")},
     "model t: focus ['cb', 'threat', 'z'] must name a two-way interaction of the formula (its interactions: "
     "['cb:threat', 'cb:z', 'threat:z', 'cb:threat:z'])"),
    ({"formula": "y ~ cb * threat", "focus": ("threat", "cb")},
     "model t: focus ['threat', 'cb'] must name a two-way interaction of the formula (its interactions: "
     "['cb:threat'])"),
    ({"formula": "y ~ cb * threat", "focus": ["cb", "threat"]}, "model t: focus must be a list of variable names"),
    ({"formula": "y ~ cb * threat + (1 | dyad)", "family": "hurdle_poisson", "count_formula": "~ cb + (1 | dyad)"},
     "model t: count_formula: the count part has no group intercepts (its few positive rows cannot identify "
     "them); remove the (1 | ...) terms"),
    ({"formula": "y ~ cb * threat + (1 | dyad)", "family": "hurdle_negbinomial", "count_formula": "~ cb + (1 | year)"},
     "model t: count_formula: the count part has no group intercepts (its few positive rows cannot identify "
     "them); remove the (1 | ...) terms"),
    ({"formula": "y ~ cb * threat + (1 | dyad)", "count_formula": "~ cb"},
     "model t: count_formula is only for the hurdle families"),
    ({"formula": "y ~ cb * threat + (1 | dyad)", "family": "cumulative", "count_formula": "~ cb"},
     "model t: count_formula is only for the hurdle families"),
    ({"formula": "y ~ cb * threat + (1 | dyad)", "family": "hurdle_poisson", "count_formula": "~ cb +"},
     "model t: count_formula: cannot parse 'y ~ cb +' (ParseError: Don't know how to parse '')"),
    ({"formula": "y ~ 0 + cb + (1 | dyad)"},
     "model t: the bernoulli family needs an intercept; remove '0 +' / '- 1'"),
])
def test_spec_refusals(fields, message):
    assert spec_error(**fields) == message


def test_unsafe_model_name():
    with pytest.raises(SpecError) as info:
        ModelSpec("../m4", "y ~ cb")
    assert str(info.value) == ("model name '../m4' cannot be used as a file name: use letters, digits, '_', '.', '+' "
                               "and '-', starting with a letter or digit")


def test_hurdle_count_formula():
    spec = ModelSpec("t", "y ~ cb * threat + (1 | dyad) + (1 | year)", family="hurdle_poisson", count_formula="~ cb")
    count = spec.count_parsed
    assert (count.response, count.terms, count.group, count.year_effects) == ("y", ("cb",), None, False)
    assert spec.family_info.count == "poisson" and spec.variables == ("y", "cb", "threat")
    default = ModelSpec("t", "y ~ cb * threat + (1 | dyad) + (1 | year)", family="hurdle_negbinomial")
    assert default.family_info.count == "negbin"
    assert default.count_parsed.terms == ("cb", "threat", "cb:threat")  # the zero part's terms, without groups
    assert default.count_parsed.group is None and not default.count_parsed.year_effects
    assert ModelSpec("t", "y ~ cb").count_parsed is None


def test_a_count_formula_with_another_outcome_is_refused():
    with pytest.raises(SpecError) as info:
        ModelSpec("t", "y ~ cb * threat + (1 | dyad)", family="hurdle_poisson", count_formula="z ~ cb")
    assert str(info.value) == "model t: count_formula: its outcome z is not the model's (y); write '~ terms'"


# ---------------------------------------------------------------------------------------------------------------------
# Bad panels in model_data


def data_error(frame: pd.DataFrame, spec: ModelSpec) -> str:
    with pytest.raises(SpecError) as info:
        model_data(frame, spec)
    return str(info.value)


def test_variables_the_panel_lacks(frame):
    spec = ModelSpec("mine", "y ~ cb * threat + (1 | dyad)", sample="sample")
    assert data_error(frame.drop(columns="threat"), spec) == "model mine: the panel has no variable(s) threat"
    assert data_error(frame.drop(columns=["threat", "sample"]), spec) == \
        "model mine: the panel has no variable(s) threat, sample"
    assert data_error(frame.drop(columns="ccode_b"), spec) == "model mine: the panel has no variable(s) ccode_b"
    assert data_error(frame, ModelSpec("mine", "y ~ cb + (1 | region)")) == \
        "model mine: the panel has no variable(s) region"
    assert data_error(frame.drop(columns="year"), ModelSpec("mine", "y ~ cb + (1 | year)")) == \
        "model mine: the panel has no variable(s) year"
    assert data_error(frame, ModelSpec("mine", "pact ~ cb")) == "model mine: the panel has no variable(s) pact"


def test_counts_in_a_bernoulli_model(frame):
    counts = frame.assign(y=frame["y"] * 3)
    counts.loc[counts.index[0], "y"] = 1.0
    assert data_error(counts, ModelSpec("t", "y ~ cb + (1 | dyad)")) == (
        "model t: outcome y has values other than 0 and 1 (e.g. 3); the bernoulli family is for binary outcomes "
        "(counts: hurdle_poisson or hurdle_negbinomial; ordered: cumulative)")
    data = model_data(counts, ModelSpec("t", "y ~ cb + (1 | dyad)", family="hurdle_poisson"))
    np.testing.assert_array_equal(data.y, counts["y"])  # the same outcome fits a hurdle


def test_outcomes_of_the_count_and_ordinal_families(frame):
    fractional = frame.assign(y=frame["y"] + 0.5)
    assert data_error(fractional, ModelSpec("t", "y ~ cb", family="hurdle_poisson")) == (
        "model t: outcome y has values that are not whole numbers >= 0; the hurdle_poisson family needs counts")
    assert data_error(frame.assign(y=2.0), ModelSpec("t", "y ~ cb", family="cumulative")) == (
        "model t: outcome y takes a single value in the sample; an ordinal model needs at least two")
    missing_counts = frame.assign(y=frame["y"].where(frame.index % 2 == 0))
    data = model_data(missing_counts, ModelSpec("t", "y ~ cb", family="hurdle_poisson"))
    assert len(data.y) == len(frame) and data.y[frame.index % 2 == 1].eq(0).all()  # a missing count is no event


def test_string_outcome_in_a_cumulative_model(frame):
    words = frame.assign(y=np.array(["low", "mid", "high"])[np.arange(len(frame)) % 3])
    assert data_error(words, ModelSpec("t", "y ~ cb + (1 | dyad)", family="cumulative")) == (
        f"model t: outcome y is not ordered (type {words['y'].dtype}); the cumulative family needs ordered "
        "categories (integers or an ordered categorical)")
    unordered = words.assign(y=pd.Categorical(words["y"]))
    assert data_error(unordered, ModelSpec("t", "y ~ cb", family="cumulative")) == (
        "model t: outcome y is an unordered category; the cumulative family needs ordered categories")
    ordered = words.assign(y=pd.Categorical(words["y"], ["low", "mid", "high"], ordered=True))
    data = model_data(ordered, ModelSpec("t", "y ~ cb + (1 | dyad)", family="cumulative"))
    assert list(data.categories) == ["low", "mid", "high"] and list(data.X.columns) == ["cb"]  # no intercept
    np.testing.assert_array_equal(data.y, np.arange(len(frame)) % 3)
    integers = frame.assign(y=np.array([2.0, 5.0, 9.0])[np.arange(len(frame)) % 3])
    data = model_data(integers, ModelSpec("t", "y ~ cb", family="cumulative"))
    assert list(data.categories) == [2.0, 5.0, 9.0]
    np.testing.assert_array_equal(data.y, np.arange(len(frame)) % 3)


def test_empty_estimation_sample(frame):
    assert data_error(frame.assign(sample=False), ModelSpec("t", "y ~ cb + (1 | dyad)", sample="sample")) == (
        "model t: the estimation sample sample has no rows in this panel")
    assert data_error(frame.assign(threat=np.nan), ModelSpec("t", "y ~ cb * threat")) == (
        "model t: the estimation sample (complete rows) has no rows in this panel")


def test_missing_values_inside_a_sample_mask(frame):
    spec = ModelSpec("t", "y ~ cb * threat + (1 | dyad)", sample="sample")
    holes = frame.copy()
    holes.loc[holes.index[3], "threat"] = np.nan
    assert data_error(holes, spec) == "model t: missing values of threat inside the sample sample"
    holes.loc[holes.index[5], "y"] = np.nan
    assert data_error(holes, spec) == "model t: missing values of y, threat inside the sample sample"
    # outside the mask, or without one, incomplete rows are simply left out
    outside = holes.assign(sample=holes[["y", "threat"]].notna().all(axis=1))
    assert len(model_data(outside, spec).y) == len(frame) - 2
    data = model_data(holes, ModelSpec("t", "y ~ cb * threat + (1 | dyad)"))
    assert len(data.y) == len(frame) - 2 and not {holes.index[3], holes.index[5]} & set(data.X.index)


def test_a_transform_that_fails_names_the_model(frame):
    with pytest.raises(SpecError) as info:
        model_data(frame, ModelSpec("t", "y ~ np.reshape(cb, 7)"))
    assert str(info.value).startswith("model t: formula: cannot build the design of 'y ~ 1 + np.reshape(cb, 7)' "
                                      "(ValueError: ")
    with pytest.raises(SpecError, match="model t: column kind holds text"):  # text as a number: named first
        model_data(frame, ModelSpec("t", "y ~ np.log1p(kind)"))


# ---------------------------------------------------------------------------------------------------------------------
# Spec files and the paper's specs


def test_user_spec_file(tmp_path):
    path = tmp_path / "specs.toml"
    path.write_text(
        '[m4_years]\nbase = "m4"\n'
        'formula = "new_defense_pact ~ counterbalancing_a * threat_b + threat_a + (1 | dyad) + (1 | year)"\n\n'
        '[m4_state]\nbase = "m4"\nmethod = "plain"\nlabel = "by State A"\n\n'
        '[ordinal]\nformula = "concessions_a ~ counterbalancing_a * threat_a + (1 | state_a)"\n'
        'family = "cumulative"\nsample = "sample_controls"\nfocus = ["counterbalancing_a", "threat_a"]\n\n'
        '[counts]\nformula = "concessions_b ~ counterbalancing_a * threat_b + (1 | dyad)"\n'
        'family = "hurdle_negbinomial"\ncount_formula = "~ counterbalancing_a + threat_b"\n')
    specs = load_specs(path)
    assert list(specs) == ["m1", "m2", "m3", "m4", "h1", "h2", "m4_years", "m4_state", "ordinal", "counts"]
    years, m4 = specs["m4_years"], PAPER_MODELS["m4"]
    assert years.name == "m4_years" and years.sample == m4.sample == "sample_controls"
    assert years.family == "bernoulli" and years.year_effects and years.group == "dyad"
    assert years.label == "Table 1 Model 4, modified" and years.paper_table == ""
    assert years.description == m4.description
    assert years.interaction == ("counterbalancing_a", "threat_b")
    state = specs["m4_state"]
    assert state.formula == m4.formula and state.method == "plain" and state.fit_method == "plain"
    assert state.label == "by State A"
    ordinal = specs["ordinal"]
    assert (ordinal.family, ordinal.group, ordinal.fit_method, ordinal.label) == ("cumulative", "state_a", "plain",
                                                                                  "ordinal")
    assert ordinal.focus == ("counterbalancing_a", "threat_a") and ordinal.sample == "sample_controls"
    counts = specs["counts"]
    assert counts.family_info.count == "negbin" and counts.count_parsed.terms == ("counterbalancing_a", "threat_b")
    assert counts.count_parsed.response == "concessions_b" and counts.sample == ""
    assert load_specs() == PAPER_MODELS


@pytest.mark.parametrize("text, message", [
    ('[m4]\nbase = "m1"\n', "[m4] would replace the model m4; choose another name"),
    ('[x]\nbase = "m9"\n', "[x] base 'm9' is not a known model (m1, m2, m3, m4, h1, h2)"),
    ('[x]\nbase = "m4"\ncolour = "red"\n', "[x] unknown field(s) colour; known: base, count_formula, description, "
                                           "effect, family, figures, focus, formula, integrate, label, method, "
                                           "paper_table, sample"),
    ('[x]\nfamily = "bernoulli"\n', "[x] missing field(s) formula (or give base = a known model)"),
    ('[x]\nbase = "m4"\nfamily = "probit"\n', "model x: family must be one of bernoulli, hurdle_poisson, "
                                              "hurdle_negbinomial, cumulative, got 'probit'"),
    ('[x]\nbase = "m3"\nfocus = ["counterbalancing_a", "threat_a"]\n',
     "model x: focus ['counterbalancing_a', 'threat_a'] must name a two-way interaction of the formula (its "
     "interactions: ['counterbalancing_a:threat_b'])"),
    ('[x]\nformula = "new_defense_pact ~ counterbalancing_a + (threat_a | dyad)"\n',
     "model x: formula: " + SLOPES_ONLY),
    ('[x]\nbase = "m4"\nintegrate = "state_a"\n',
     "model x: integrate: the formula has no grouping 'state_a' (its groupings: dyad)"),
    ('x = 3\n', "[x] must be a table of spec fields"),
])
def test_spec_file_errors(tmp_path, text, message):
    path = tmp_path / "specs.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_specs(path)
    assert str(info.value) == f"{path}: {message}"


def test_spec_file_not_toml(tmp_path):
    path = tmp_path / "specs.toml"
    path.write_text("[x\n")
    with pytest.raises(SpecError, match="specs.toml: not valid TOML"):
        load_specs(path)
    with pytest.raises(SpecError) as info:
        load_specs(tmp_path / "absent.toml")
    assert str(info.value) == f"{tmp_path / 'absent.toml'}: model spec file not found"


CONTROLS = ("shared_defense_pact", "regime_difference", "recent_coup_a", "new_regime_a", "military_regime_a")


@pytest.mark.parametrize("name, outcome, family, sample, interaction, covariates", [
    ("m1", "new_defense_pact", "bernoulli", "sample_no_controls", ("counterbalancing_a", "threat_a"),
     ("counterbalancing_a", "threat_a")),
    ("m2", "new_defense_pact", "bernoulli", "sample_controls", ("counterbalancing_a", "threat_a"),
     ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS)),
    ("m3", "new_defense_pact", "bernoulli", "sample_no_controls", ("counterbalancing_a", "threat_b"),
     ("counterbalancing_a", "threat_b")),
    ("m4", "new_defense_pact", "bernoulli", "sample_controls", ("counterbalancing_a", "threat_b"),
     ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS)),
    ("h1", "concessions_a", "hurdle_poisson", "sample_controls", ("counterbalancing_a", "threat_a"),
     ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS)),
    ("h2", "concessions_b", "hurdle_poisson", "sample_controls", ("counterbalancing_a", "threat_b"),
     ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS)),
])
def test_paper_specs(name, outcome, family, sample, interaction, covariates):
    spec = PAPER_MODELS[name]
    assert list(PAPER_MODELS) == ["m1", "m2", "m3", "m4", "h1", "h2"]
    assert (spec.name, spec.outcome, spec.family, spec.sample) == (name, outcome, family, sample)
    assert spec.group == "dyad" and spec.group_sd == "dyad_sd" and not spec.year_effects
    assert spec.fit_method == "marginal" and spec.method == "" and spec.focus == ()
    assert spec.interaction == interaction and spec.interaction_term == ":".join(interaction)
    parsed = spec.parsed
    assert parsed.intercept and parsed.terms == (*covariates, ":".join(interaction))  # the paper's order
    assert parsed.interactions == (interaction,) and parsed.categorical == ()
    assert spec.variables == (outcome, *covariates)
    assert spec.paper_table == ("Table 1" if name.startswith("m") else "Table 2")
    if family == "hurdle_poisson":
        assert spec.family_info.count == "poisson" and spec.count_parsed.terms == parsed.terms
        assert spec.count_parsed.group is None
    else:
        assert spec.count_parsed is None
