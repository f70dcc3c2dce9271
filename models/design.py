"""From the panel's long frame to a model's estimation data: the sample rows, the outcome, the design matrices built
from the spec's formulas, the group codes with their labels, and the year codes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .formula import Formula, FormulaError, Grouping, design_frame, design_matrix
from .specs import ModelSpec, SpecError

__all__ = ["ModelData", "SpecError", "group_codes", "model_data", "typical_values"]

# Groupings made from the panel's state codes (any other grouping is a panel variable), and their label columns.
DERIVED_GROUPINGS: dict[str, tuple[str, ...]] = {
    "dyad": ("ccode_a", "ccode_b"), "undirected_dyad": ("ccode_a", "ccode_b"), "state_a": ("ccode_a",),
    "state_b": ("ccode_b",), "country": ("ccode",)}
# a state code's abbreviation, where the panel has it
LABELS = {"ccode_a": "stateabb_a", "ccode_b": "stateabb_b", "ccode": "stateabb"}


@dataclass(frozen=True)
class ModelData:
    """Estimation data of one model. `X` is the common design (with 'Intercept' except for cumulative models),
    `y` the outcome (ordinal outcomes coded 0..K-1, their values in `categories`), `groups` the integer group code
    of each row and `group_labels` one row of labels per group (e.g. ccode_a, ccode_b, stateabb_a, stateabb_b for
    dyads), `years` the year codes when years are pooled. `rows` keeps the frame's estimation rows (the variables
    the formulas read) so that new data can be built at typical values; `design` evaluates new rows."""

    spec: ModelSpec
    y: pd.Series
    X: pd.DataFrame
    groups: np.ndarray | None
    group_labels: pd.DataFrame | None
    rows: pd.DataFrame
    design: object
    count_X: pd.DataFrame | None = None
    count_design: object = None
    years: np.ndarray | None = None
    year_labels: np.ndarray | None = None
    categories: np.ndarray | None = None
    sampled: dict = field(default_factory=dict)  # grouping name -> (codes, labels) of the sampled groupings
    slopes: dict = field(default_factory=dict)  # grouping name -> (variables, rows x k standardised values)
    incomplete: int = 0  # rows left out for a missing value of a model variable (no sample mask given)

    @property
    def n_groups(self) -> int:
        return 0 if self.group_labels is None else len(self.group_labels)

    @property
    def positive(self) -> np.ndarray:
        """Rows with a positive outcome: those a hurdle's count part is fitted on."""
        return self.y.to_numpy() > 0

    @property
    def terms(self) -> tuple[str, ...]:
        """The design's columns without the intercept (the standardised slopes' names)."""
        return tuple(c for c in self.X.columns if c != "Intercept")

    def categorical_levels(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The largest categorical main effect (e.g. `C(year)`) as levels: its dummies' positions in `terms` and
        each row's level (0: the reference, j: the j-th dummy), or None without one. Lets the kernel add one
        effect per row instead of a design column per level (the same linear predictor)."""
        if self.design is None or not hasattr(self.design, "terms"):
            return None
        slices = [self.design.slices[name] for name, term in self.design.terms.items()
                  if getattr(term, "kind", None) == "categoric"]
        if not slices:
            return None
        largest = max(slices, key=lambda s: s.stop - s.start)
        columns = list(self.X.columns[largest])
        dummies = self.X[columns].to_numpy()
        if not (np.isin(dummies, (0.0, 1.0)).all() and (dummies.sum(axis=1) <= 1).all()):
            return None
        positions = np.array([self.terms.index(c) for c in columns])
        return positions, (dummies @ np.arange(1, len(columns) + 1)).astype(np.int64)

    def new_design(self, frame: pd.DataFrame, part: str = "zero") -> pd.DataFrame:
        """The design of new rows (same columns, transforms and category levels as the estimation design);
        `part` "count" gives the hurdle count part's."""
        common = self.count_design if part == "count" else self.design
        X = design_frame(common, frame)
        return X.drop(columns="Intercept") if "Intercept" not in self.X.columns and part != "count" else X


def _integrated(formula: Formula) -> Grouping:
    return Grouping(formula.group, formula.group_columns or (formula.group,), formula.undirected)


def grouping_columns(frame: pd.DataFrame, formula: Formula | Grouping) -> tuple[str, ...]:
    """The frame's columns a grouping reads (a formula's: the integrated one): those named in it (`a:b`,
    `pair(a, b)`), a column of its name, else the state codes a panel grouping is made of (dyad, state_a, ...)."""
    grouping = _integrated(formula) if isinstance(formula, Formula) else formula
    group = grouping.name
    if grouping.columns and grouping.columns != (group,):
        return grouping.columns
    return DERIVED_GROUPINGS[group] if group not in frame.columns and group in DERIVED_GROUPINGS else (group,)


class MissingVariables(SpecError):
    """The variables a spec needs and the data lack; `model` and `missing` let a caller word it for its data."""

    def __init__(self, model: str, missing: list[str]):
        self.model, self.missing = model, tuple(missing)
        super().__init__(f"model {model}: the panel has no variable(s) {', '.join(missing)}")


def check_panel_has(frame: pd.DataFrame, spec: ModelSpec) -> None:
    """Raise MissingVariables naming every variable (and the sample mask and groupings) the spec needs but the panel
    lacks."""
    needed = list(spec.variables) + ([spec.sample] if spec.sample else []) + (["year"] if spec.year_effects else [])
    needed += [c for g in spec.parsed.groupings for c in grouping_columns(frame, g)]
    missing = [v for v in dict.fromkeys(needed) if v not in frame.columns]
    if missing:
        raise MissingVariables(spec.name, missing)


def group_codes(frame: pd.DataFrame, formula: Formula | Grouping) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group codes (0..G-1, sorted by key) of each row and one row of labels per group, the grouping
    columns' values (a formula's: its integrated grouping): for a panel's dyads the two state codes and
    abbreviations, for State A (or B) or the country its code and abbreviation; an undirected pair (pair(a, b),
    undirected_dyad) labelled by its lower value first."""
    grouping = _integrated(formula) if isinstance(formula, Formula) else formula
    group = grouping.name
    undirected = grouping.undirected or group == "undirected_dyad"
    columns = list(grouping_columns(frame, grouping))
    keys = frame[columns]
    if undirected:
        first_value, second_value = keys.iloc[:, 0], keys.iloc[:, 1]
        swap = (second_value < first_value).to_numpy()
        keys = pd.DataFrame({columns[0]: first_value.where(~swap, second_value),
                             columns[1]: second_value.where(~swap, first_value)}, index=frame.index)
    if len(columns) == 1:
        codes = pd.factorize(keys.iloc[:, 0], sort=True)[0]
    else:  # one group per combination of values, in sorted order
        codes = keys.groupby(columns, sort=True).ngroup().to_numpy()
    first = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
    labels = keys.iloc[first].reset_index(drop=True)
    for code, abbreviation in LABELS.items():
        if code in labels and abbreviation in frame and not undirected:
            labels[abbreviation] = frame[abbreviation].iloc[first].to_numpy()
    labels.index.name = group
    return codes.astype(np.int64), labels


def with_integrated_grouping(rows: pd.DataFrame, spec: ModelSpec) -> ModelSpec:
    """The spec with its integrated grouping named: the one given, else the grouping without group-specific slopes
    with the most groups in the estimation rows (the kernel integrates the largest out; the others are sampled)."""
    groupings = [g for g in spec.parsed.groupings if not g.slopes]
    if spec.integrate or len(spec.parsed.groupings) < 2:
        return spec
    counts = {g.name: len(group_codes(rows, g)[1]) for g in groupings}
    return replace(spec, integrate=max(groupings, key=lambda g: counts[g.name]).name)


def _outcome(rows: pd.DataFrame, spec: ModelSpec) -> tuple[pd.Series, np.ndarray | None]:
    """The outcome, checked against the family's kind of outcome: 0/1 for binary, counts for hurdles (missing counts
    as 0: no event, nothing to count), ordered categories for ordinal families (coded 0..K-1)."""
    values = rows[spec.outcome]
    where = f"model {spec.name}: outcome {spec.outcome}"
    family = spec.family_info
    if family.is_ordinal:
        if isinstance(values.dtype, pd.CategoricalDtype):
            if not values.cat.ordered:
                raise SpecError(f"{where} is an unordered category; the {spec.family} family needs ordered "
                                "categories")
            categories = np.asarray(values.cat.categories)
            return pd.Series(values.cat.codes.astype(float), index=rows.index), categories
        if not pd.api.types.is_numeric_dtype(values):
            raise SpecError(f"{where} is not ordered (type {values.dtype}); the {spec.family} family needs ordered "
                            "categories (integers or an ordered categorical)")
    values = values.astype(float)
    if family.is_hurdle:
        values = values.fillna(0.0)
    observed = values.dropna()
    if family.is_binary and not observed.isin([0.0, 1.0]).all():
        odd = observed[~observed.isin([0.0, 1.0])].iloc[0]
        raise SpecError(f"{where} has values other than 0 and 1 (e.g. {odd:g}); the {spec.family} family is for "
                        "binary outcomes (counts: hurdle_poisson or hurdle_negbinomial; ordered: cumulative)")
    if not family.is_binary and not ((observed >= 0) & (observed == np.round(observed))).all():
        raise SpecError(f"{where} has values that are not whole numbers >= 0; the {spec.family} family needs "
                        + ("ordered categories" if family.is_ordinal else "counts"))
    if family.is_ordinal:
        categories = np.sort(observed.unique())
        if len(categories) < 2:
            raise SpecError(f"{where} takes a single value in the sample; an ordinal model needs at least two")
        return pd.Series(np.searchsorted(categories, values).astype(float), index=rows.index).where(
            values.notna()), categories
    return values, None


def _design(formula: Formula, rows: pd.DataFrame, spec: ModelSpec, where: str) -> tuple[pd.DataFrame, object]:
    try:
        common = design_matrix(formula.common, rows, f"model {spec.name}: {where}")
    except FormulaError as exc:  # a transform that fails on these data: the spec does not fit the panel
        raise SpecError(str(exc)) from None
    return design_frame(common), common


def _check_inputs(rows: pd.DataFrame, spec: ModelSpec) -> None:
    """Refuse, naming the column, a grouping column with missing values (which group would the row be in?), a
    dyad-year repeated (a dyadic grouping with a year column), and a text column used as a number (formulae would
    make it a category silently: say so with C())."""
    for column in dict.fromkeys(c for g in spec.parsed.groupings for c in grouping_columns(rows, g)):
        missing = int(rows[column].isna().sum())
        if missing:
            raise SpecError(f"model {spec.name}: the grouping column {column} has {missing:,} missing value(s); "
                            "drop those rows or fill them")
    for grouping in spec.parsed.groupings:
        if grouping.undirected and len({pd.api.types.is_numeric_dtype(rows[c]) for c in grouping.columns}) > 1:
            raise SpecError(f"model {spec.name}: pair({', '.join(grouping.columns)}): one column holds numbers, the "
                            "other text; an undirected pair needs values of one kind to order them")
    dyadic = [g for g in spec.parsed.groupings if len(grouping_columns(rows, g)) == 2]
    if dyadic and "year" in rows.columns:  # dyad-years: each dyad once a year (a merge gone wrong repeats rows)
        keys = [*grouping_columns(rows, dyadic[0]), "year"]
        repeated = rows.duplicated(keys, keep=False)
        if repeated.any():
            first = rows.loc[repeated, keys].iloc[0].tolist()
            raise SpecError(f"model {spec.name}: {int(repeated.sum()):,} rows repeat a dyad-year of "
                            f"({', '.join(keys)}), e.g. {tuple(first)}; one row per dyad and year is expected")
    formulas = [spec.parsed] + ([spec.count_parsed] if spec.count_parsed is not None else [])
    categorical = {v for f in formulas for v in f.categorical}
    for column in dict.fromkeys(v for f in formulas for v in f.variables):
        values = rows[column]
        if column not in categorical and not (pd.api.types.is_numeric_dtype(values)
                                              or pd.api.types.is_bool_dtype(values)):
            example = values.dropna().iloc[0] if values.notna().any() else ""
            raise SpecError(f"model {spec.name}: column {column} holds text (e.g. {str(example)[:40]!r}), not "
                            f"numbers; write C({column}) to use it as a category")


def model_data(frame: pd.DataFrame, spec: ModelSpec) -> ModelData:
    """The spec's estimation sample and designs from the panel frame. A sample mask must cover only complete rows;
    without a mask, rows with a missing model variable are left out."""
    check_panel_has(frame, spec)
    rows = frame[frame[spec.sample].astype(bool)] if spec.sample else frame
    y, categories = _outcome(rows, spec)
    used = [v for v in spec.variables if v != spec.outcome]
    _check_inputs(rows, spec)
    complete = y.notna() & rows[used].notna().all(axis=1)
    if spec.sample and not complete.all():
        bad = [v for v in (spec.outcome, *used) if (rows[v].isna() if v != spec.outcome else y.isna()).any()]
        raise SpecError(f"model {spec.name}: missing values of {', '.join(bad)} inside the sample {spec.sample}")
    rows, y = rows[complete], y[complete]
    if rows.empty:
        raise SpecError(f"model {spec.name}: the estimation sample "
                        f"{spec.sample or '(complete rows)'} has no rows in this panel")
    keep = [c for c in dict.fromkeys((*spec.variables, *(["year"] if "year" in rows else []))) if c in rows]
    model_rows = rows[keep].copy()
    model_rows[spec.outcome] = y  # hurdle counts filled, ordinal categories coded
    X, design = _design(spec.parsed, model_rows, spec, "formula")
    if not spec.family_info.intercept:  # an ordinal model's cut points take the intercept's place
        X = X.drop(columns="Intercept", errors="ignore")
    count_X = count_design = None
    if spec.count_parsed is not None:
        count_X, count_design = _design(spec.count_parsed, model_rows, spec, "count_formula")
    groups = group_labels = None
    spec = with_integrated_grouping(rows, spec)
    if spec.group:
        groups, group_labels = group_codes(rows, spec.parsed)
    sampled = {g.name: group_codes(rows, g) for g in spec.parsed.sampled}
    slopes = {g.name: (g.slopes, slope_values(model_rows, g.slopes, spec)) for g in spec.parsed.sampled if g.slopes}
    years = year_labels = None
    if spec.year_effects:
        years, year_labels = pd.factorize(rows["year"].astype(np.int64), sort=True)
        years, year_labels = years.astype(np.int64), np.asarray(year_labels)
    return ModelData(spec, y, X.set_axis(rows.index), groups, group_labels, model_rows, design,
                     None if count_X is None else count_X.set_axis(rows.index), count_design, years, year_labels,
                     categories, sampled, slopes, int((~complete).sum()))


def slope_values(rows: pd.DataFrame, variables: tuple[str, ...], spec: ModelSpec) -> np.ndarray:
    """The variables with group-specific slopes, standardised on the estimation rows (rows x k): a group's slope is
    per sd of the variable and its intercept is at the variable's mean, so the slopes' and intercepts' sds share a
    scale and one prior."""
    columns = []
    for name in variables:
        values = rows[name]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise SpecError(f"model {spec.name}: ({name} | ...): a group-specific slope needs a numeric variable; "
                            f"{name} is {values.dtype}")
        values = values.to_numpy(float)
        sd = values.std()
        if not sd > 0:
            raise SpecError(f"model {spec.name}: ({name} | ...): {name} does not vary in the estimation sample")
        columns.append((values - values.mean()) / sd)
    return np.column_stack(columns)


def typical_values(data: ModelData) -> pd.Series:
    """Each variable the formulas read at a typical value, the convention of the paper's figures: the sample mean
    for numbers (binary controls too), the most common value for categories and for variables used as `C(...)`."""
    formulas = [data.spec.parsed] + ([data.spec.count_parsed] if data.spec.count_parsed is not None else [])
    categorical = {v for f in formulas for v in f.categorical}
    values = {}
    for name in data.rows.columns:
        column = data.rows[name]
        numeric = pd.api.types.is_numeric_dtype(column) and name not in categorical
        values[name] = column.mean() if numeric else column.mode().iloc[0]
    return pd.Series(values)
