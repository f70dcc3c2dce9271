"""Your own table (data_prep.user_table): every file format gives the same model data, lme4's compound groupings
and undirected pairs give the groups they name, labelled by the columns' values, and bad tables are one error."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import coupproof as cp
from data_prep.schemas import DataError
from data_prep.user_table import as_dataset, read_table
from models.formula import Formula, FormulaError
from models.specs import SpecError


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """Directed dyad-years of 12 states over 4 years, a numeric input and a binary outcome; state names as text."""
    rng = np.random.default_rng(7)
    pairs = [(a, b) for a in range(2, 14) for b in range(2, 14) if a != b]
    frame = pd.DataFrame([(a, b, year) for a, b in pairs for year in range(2001, 2005)],
                         columns=["ccode1", "ccode2", "year"])
    frame["x"] = rng.normal(size=len(frame))
    frame["y"] = rng.binomial(1, 0.2, len(frame))
    frame["name1"] = "s" + frame["ccode1"].astype(str)
    return frame


def write(frame: pd.DataFrame, path) -> None:
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    elif suffix == ".dta":
        frame.to_stata(path, write_index=False)
    elif suffix == ".rds":
        import pyreadr

        pyreadr.write_rds(path, frame)
    elif suffix == ".nc":
        xr.Dataset.from_dataframe(frame.set_index(["ccode1", "ccode2", "year"])).to_netcdf(path, engine="h5netcdf")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".dta", ".rds", ".nc"])
def test_every_format_gives_the_same_model_data(table, tmp_path, suffix):
    path = tmp_path / f"dyads{suffix}"
    write(table, path)
    model = cp.Model("y ~ x + (1 | ccode1:ccode2)", path, name="mine")
    reference = cp.Model("y ~ x + (1 | ccode1:ccode2)", table, name="mine")
    assert model.data.n_groups == reference.data.n_groups == 132
    np.testing.assert_array_equal(model.data.groups, reference.data.groups)
    np.testing.assert_allclose(model.data.X.to_numpy(), reference.data.X.to_numpy())
    assert model.panel_path == str(path.resolve())  # a file records itself; a frame in memory records none
    assert reference.panel_path == ""


def test_a_frame_indexed_by_its_units_keeps_them(table):
    indexed = table.set_index(["ccode1", "ccode2", "year"])
    model = cp.Model("y ~ x + (1 | ccode1:ccode2)", indexed, name="mine")
    assert model.data.n_groups == 132 and len(model.data.y) == len(table)


def test_compound_and_undirected_groupings(table):
    directed = cp.Model("y ~ x + (1 | ccode1:ccode2)", table, name="mine").data
    labels = directed.group_labels
    assert list(labels.columns) == ["ccode1", "ccode2"] and labels.index.name == "ccode1_ccode2"
    row = table.index[(table.ccode1 == 5) & (table.ccode2 == 9)][0]
    assert tuple(labels.iloc[directed.groups[row]]) == (5, 9)
    undirected = cp.Model("y ~ x + (1 | pair(ccode1, ccode2))", table, name="mine").data
    assert undirected.n_groups == 66  # 12 states: 66 unordered pairs
    one = table.index[(table.ccode1 == 5) & (table.ccode2 == 9)][0]
    other = table.index[(table.ccode1 == 9) & (table.ccode2 == 5)][0]
    assert undirected.groups[one] == undirected.groups[other]
    assert tuple(undirected.group_labels.iloc[undirected.groups[one]]) == (5, 9)  # the lower value first
    text = cp.Model("y ~ x + (1 | name1)", table, name="mine").data  # a text column as the grouping
    assert text.n_groups == 12 and text.group_labels["name1"].iloc[0] == "s10"


def test_a_grouping_with_missing_values_and_text_used_as_a_number_are_refused(table):
    gappy = table.astype({"ccode2": float})
    gappy.loc[:9, "ccode2"] = np.nan
    with pytest.raises(SpecError, match="model mine: the grouping column ccode2 has 10 missing value"):
        cp.Model("y ~ x + (1 | ccode1:ccode2)", gappy, name="mine")
    with pytest.raises(SpecError, match=r"column name1 holds text \(e.g. 's2'\), not numbers; write C\(name1\)"):
        cp.Model("y ~ x + name1 + (1 | ccode1:ccode2)", table, name="mine")
    assert "C(name1)[s3]" in cp.Model("y ~ x + C(name1) + (1 | ccode1:ccode2)", table, name="mine").data.X
    gaps_in_x = table.assign(x=table["x"].where(table.index >= 7))  # lme4's and brms's rule: left out, and counted
    data = cp.Model("y ~ x + (1 | ccode1:ccode2)", gaps_in_x, name="mine").data
    assert (data.incomplete, len(data.y)) == (7, len(table) - 7)


def test_a_pair_of_numbers_and_text_and_an_unknown_integrate_are_refused(table):
    with pytest.raises(SpecError, match=r"pair\(ccode1, name1\): one column holds numbers, the other text"):
        cp.Model("y ~ x + (1 | pair(ccode1, name1))", table, name="mine")
    with pytest.raises(SpecError, match="integrate: the formula has no grouping 'year'"):
        cp.Model("y ~ x + (1 | ccode1)", table, name="mine", integrate="year")
    chosen = cp.Model("y ~ x + (1 | ccode1:ccode2) + (1 | ccode1)", table, name="mine", integrate="ccode1")
    assert chosen.spec.group == "ccode1" and list(chosen.data.sampled) == ["ccode1_ccode2"]


def test_groupings_the_model_layer_cannot_read_are_refused():
    assert Formula.parse("y ~ x + (1 | a:b)").group_columns == ("a", "b")
    parsed = Formula.parse("y ~ x + (1 | pair(a, b))")
    assert (parsed.group, parsed.group_columns, parsed.undirected) == ("pair_a_b", ("a", "b"), True)
    with pytest.raises(FormulaError, match=r"\(1 \| log\(a\)\): a grouping is a column, columns joined by ':'"):
        Formula.parse("y ~ x + (1 | log(a))")


def test_a_dataset_of_any_dims_is_read_as_its_long_frame(table):
    ds = xr.Dataset.from_dataframe(table.drop(columns="name1").set_index(["ccode1", "ccode2", "year"]))
    frame_model = cp.Model("y ~ x + (1 | ccode1:ccode2)", as_dataset(ds), name="mine")
    assert len(frame_model.data.y) == len(table)  # the dims' full product less the rows with missing values


@pytest.mark.parametrize(("name", "content", "message"), [
    ("t.xlsx", b"", "unknown table format .xlsx; use .csv, .parquet"),
    ("missing.csv", None, "table file not found"),
    ("empty.csv", b"y,x\n", "the table has no rows"),
    ("damaged.parquet", b"not parquet", "cannot be read as a .parquet table"),
])
def test_bad_tables_are_one_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as error:
        read_table(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_a_column_the_formula_names_and_the_table_lacks_names_the_file_and_its_columns(tmp_path, table):
    """The issue's bad input: one error naming the file, the column and what the table has instead (a CSV written
    with semicolons reads as one column, and the list shows it)."""
    path = tmp_path / "dyads.csv"
    table.to_csv(path, index=False, sep=";")
    with pytest.raises(SpecError) as error:
        cp.Model("y ~ x + (1 | ccode1:ccode2)", path, name="mine")
    assert str(error.value) == (f"{path}: model mine: the table has no column(s) y, x, ccode1, ccode2; "
                                "it has ccode1;ccode2;year;x;y;name1")
    with pytest.raises(SpecError, match=r"^model mine: the table has no column\(s\) z; it has ccode1, ccode2, year, x, "
                                        r"y, name1$"):
        cp.Model("y ~ z + (1 | ccode1:ccode2)", table, name="mine")


def test_an_r_data_file_and_an_empty_dataset(tmp_path, table):
    import pyreadr

    path = tmp_path / "dyads.rda"  # R's save(): the one data frame it holds, whatever its name
    pyreadr.write_rdata(path, table, df_name="dyads")
    assert len(read_table(path)) == len(table)
    with pytest.raises(DataError, match="the dataset has no variables"):
        as_dataset(xr.Dataset())


def test_a_repeated_dyad_year_and_a_table_over_the_size_limit_are_refused(table, tmp_path, monkeypatch):
    doubled = pd.concat([table, table.iloc[[7]]], ignore_index=True)
    with pytest.raises(SpecError, match=r"model mine: 2 rows repeat a dyad-year of \(ccode1, ccode2, year\), "
                                        r"e.g. \(2, 4, 2004\); one row per dyad and year is expected"):
        cp.Model("y ~ x + (1 | ccode1:ccode2)", doubled, name="mine")
    path = tmp_path / "dyads.csv"
    table.to_csv(path, index=False)
    monkeypatch.setenv("COUPPROOF_TABLE_LIMIT_MB", "0.01")
    with pytest.raises(DataError, match=rf"{path}: 0.0\d+ MB, over the 0.01 MB limit set in COUPPROOF_TABLE_LIMIT_MB"):
        cp.Model("y ~ x + (1 | ccode1:ccode2)", path, name="mine")
    with pytest.raises(DataError, match="the table in memory: .* MB, over the 0.01 MB limit"):
        cp.Model("y ~ x + (1 | ccode1:ccode2)", table, name="mine")
    monkeypatch.setenv("COUPPROOF_TABLE_LIMIT_MB", "lots")
    with pytest.raises(DataError, match="COUPPROOF_TABLE_LIMIT_MB='lots' is not a number of megabytes"):
        read_table(path)


EXPORT_FORMULA = "new_defense_pact ~ counterbalancing_a * threat_a + (1 | dyad)"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The synthetic panel and its rows of one sample as a table (state codes, year, outcome, inputs)."""
    from data_prep.panel import panel_to_frame
    from simulate import synthetic_panel_file

    panel = cp.load_panel(synthetic_panel_file(tmp_path_factory.mktemp("export") / "panel.nc"))
    frame = panel_to_frame(panel)
    frame = frame[frame["sample_no_controls"].astype(bool)][["ccode_a", "ccode_b", "year", "new_defense_pact",
                                                              "counterbalancing_a", "threat_a"]]
    return panel, frame


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".dta"])
def test_the_panel_exported_gives_the_same_model_data(exported, tmp_path, suffix):
    """The project's own panel written out as a table and read back through the table route gives the panel
    route's rows, outcome, design and groups, bit for bit: what the sampler sees (the draws: next test)."""
    panel, frame = exported
    path = tmp_path / f"dyads{suffix}"
    write(frame, path)
    from_panel = cp.Model(EXPORT_FORMULA, panel, name="mine", sample="sample_no_controls").data
    from_table = cp.Model(EXPORT_FORMULA, path, name="mine").data
    np.testing.assert_array_equal(from_table.y.to_numpy(), from_panel.y.to_numpy())
    assert list(from_table.X.columns) == list(from_panel.X.columns)
    np.testing.assert_array_equal(from_table.X.to_numpy(), from_panel.X.to_numpy())
    np.testing.assert_array_equal(from_table.groups, from_panel.groups)
    assert from_table.n_groups == from_panel.n_groups == len(frame.groupby(["ccode_a", "ccode_b"]))


@pytest.mark.slow  # 8 s of fitting; make test-slow
def test_the_panel_exported_fits_to_the_same_draws(exported, tmp_path):
    """The same data through both routes and the same seed give the same draws (one format: the others give the
    same model data, above)."""
    panel, frame = exported
    path = tmp_path / "dyads.csv"
    write(frame, path)
    settings = {"draws": 40, "tune": 40, "chains": 1, "seed": 3, "show": False}
    from_panel = cp.Model(EXPORT_FORMULA, panel, name="mine", sample="sample_no_controls").fit(**settings)
    from_table = cp.Model(EXPORT_FORMULA, path, name="mine").fit(**settings)
    np.testing.assert_array_equal(from_table.idata["posterior"]["coef"], from_panel.idata["posterior"]["coef"])
