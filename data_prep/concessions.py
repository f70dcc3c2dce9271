"""Foreign-policy concessions each member accepts in a new bilateral defense pact (McWard & Yoon 2023, sec. 3.4).

MY count "ten concessions" following Johnson (2015) but do not list them, and we found neither Johnson's list nor
his code. The items therefore come from a documented, configurable table (`concession_items.toml`): an
"autonomy" list reconstructed from the ATOP 5.1 codebook, a "broad" list and a later author's five ("alley"),
scored 0/1 or as summed ordinal codes. The default, broad and binary, is the reading whose statistics come closest
to the paper's Table 5 (ranked by `coupproof concessions`, chosen on the measure before any fit); none reproduces
Table 5 exactly, so every output is labelled "unverified against Johnson (2015)". Evidence and checks:
../shared/notes/threat-and-concessions.md, section B.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .io import read_toml

DEFAULT_CONFIG = Path(__file__).with_name("concession_items.toml")
SCORINGS = ("binary", "ordinal_sum")
ITEM_LISTS = ("autonomy", "broad", "alley")
LEVELS = ("M", "A")
RULES = ("binary", "ordinal_sum")
FLAG = "unverified against Johnson (2015)"
_REQUIRED = ("item", "variable", "level", "rule", "lists")
_ENTRY_KEYS = ("yrent", "moent", "dayent", "phase")


@dataclass(frozen=True)
class ConcessionOptions:
    """How concessions are counted (see the note, section B).

    scoring:   "binary" (each item 1 if its ATOP code > 0) or "ordinal_sum" (items whose rule is ordinal_sum add
               their ATOP code; the others add 0/1).
    item_list: "broad" (default: of every reading, the closest to the paper's Table 5; `coupproof concessions`),
               "autonomy" (the note's reconstruction of Johnson's ten), or "alley" (the five items of a later
               count citing Johnson 2015; concession_items.toml).
    config_path: the item table; None = the packaged `concession_items.toml`.
    """

    scoring: str = "binary"
    item_list: str = "broad"
    config_path: Path | None = None

    def __post_init__(self) -> None:
        if self.scoring not in SCORINGS:
            raise ValueError(f"ConcessionOptions.scoring={self.scoring!r}; allowed: {', '.join(SCORINGS)}")
        if self.item_list not in ITEM_LISTS:
            raise ValueError(f"ConcessionOptions.item_list={self.item_list!r}; allowed: {', '.join(ITEM_LISTS)}")
        if self.config_path is not None and not isinstance(self.config_path, (str, Path)):
            raise ValueError(f"ConcessionOptions.config_path must be a path or None, not {self.config_path!r}")

    @property
    def config(self) -> Path:
        return DEFAULT_CONFIG if self.config_path is None else Path(self.config_path)


def _read_table(path: Path) -> pd.DataFrame:
    """All items of the TOML table, validated (no list filtering)."""
    raw = read_toml(path, "concession item table")
    entries = raw.get("item")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: no [[item]] tables")
    rows = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: item #{number} ({entry.get('item', '?')!r})"
        missing = [key for key in _REQUIRED if key not in entry]
        if missing:
            raise ValueError(f"{where}: missing key(s) {', '.join(missing)}")
        if not isinstance(entry["variable"], str) or not entry["variable"]:
            raise ValueError(f"{where}: variable must be a non-empty string")
        if entry["level"] not in LEVELS:
            raise ValueError(f"{where}: unknown level {entry['level']!r}; allowed: {', '.join(LEVELS)}")
        if entry["rule"] not in RULES:
            raise ValueError(f"{where}: unknown rule {entry['rule']!r}; allowed: {', '.join(RULES)}")
        lists = entry["lists"]
        if not isinstance(lists, list) or any(name not in ITEM_LISTS for name in lists):
            raise ValueError(f"{where}: lists must be a list drawn from {', '.join(ITEM_LISTS)}; got {lists!r}")
        rows.append({
            "item": str(entry["item"]), "variable": entry["variable"], "level": entry["level"],
            "rule": entry["rule"], "lists": ",".join(lists), "kind": str(entry.get("kind", "")),
            "confidence": str(entry.get("confidence", "")), "note": str(entry.get("note", "")),
        })
    table = pd.DataFrame(rows)
    for column in ("item", "variable"):
        duplicated = table.loc[table[column].duplicated(), column].tolist()
        if duplicated:
            raise ValueError(f"{path}: duplicated {column}(s) {', '.join(duplicated)}")
    return table


def load_concession_items(options: ConcessionOptions = ConcessionOptions()) -> pd.DataFrame:
    """The concession items of `options.item_list`, one row each (item, variable, level, rule, lists, kind,
    confidence, note), in table order.

    The item table is the single documented place where the reconstruction of Johnson's (2015) list lives, so
    that changing or extending it needs no code change. A broken file, an unknown level or rule, or an empty list
    raises ValueError naming the file and the problem.
    """
    path = options.config
    table = _read_table(path)
    chosen = table[table["lists"].str.split(",").apply(lambda names: options.item_list in names)]
    if chosen.empty:
        raise ValueError(f"{path}: item list {options.item_list!r} has no items")
    return chosen.reset_index(drop=True)


def _member_scores(atop_members: pd.DataFrame, items: pd.DataFrame, scoring: str) -> pd.DataFrame:
    """atopid, member, concessions, concessions_missing: one row per alliance member, from its formation row."""
    needed = ["atopid", "member", "phase", "yrent", *items["variable"]]
    absent = [column for column in needed if column not in atop_members.columns]
    if absent:
        raise ValueError(f"ATOP member frame lacks column(s) {', '.join(absent)}")
    entry = [key for key in _ENTRY_KEYS if key in atop_members.columns]
    member_vars = items.loc[items["level"] == "M", "variable"].tolist()
    alliance_vars = items.loc[items["level"] == "A", "variable"].tolist()

    frame = atop_members[list(dict.fromkeys(["atopid", "member", *entry, *items["variable"]]))].copy()
    frame[["atopid", "member", "phase"]] = frame[["atopid", "member", "phase"]].astype("int64")
    frame[items["variable"].tolist()] = frame[items["variable"].tolist()].astype("float64")  # checked: numbers
    # Formation row: the member's earliest entry (year, month, day, then phase) into this alliance.
    formation = frame.sort_values(["atopid", "member", *entry], na_position="last", kind="stable") \
        .drop_duplicates(["atopid", "member"], keep="first")
    formation = formation[["atopid", "member", "phase", *member_vars]]
    if alliance_vars:
        # Alliance-level codes are one per alliance phase (ATOP copies them to every member row); take the
        # phase's non-missing value so that every member is credited with it.
        phase_codes = frame.groupby(["atopid", "phase"], as_index=False)[alliance_vars].max()
        formation = formation.merge(phase_codes, on=["atopid", "phase"], how="left", validate="many_to_one")

    codes = formation[items["variable"].tolist()]
    ordinal = items.loc[items["rule"] == "ordinal_sum", "variable"].tolist() if scoring == "ordinal_sum" else []
    scores = (codes > 0).astype("int64")
    if ordinal:
        scores[ordinal] = codes[ordinal].where(codes[ordinal] > 0, 0).round().astype("int64")
    out = formation[["atopid", "member"]].copy()
    out["concessions"] = scores.sum(axis=1).astype("int64")
    out["concessions_missing"] = codes.isna().sum(axis=1).astype("int64")
    return out


def concession_columns(options: ConcessionOptions = ConcessionOptions()) -> dict:
    """The ATOP member-file columns the chosen items read, each with its schema rule (an ATOP provision code), for
    RawData.load: text in an item column is refused with its row, not read as a missing provision."""
    from .schemas import provision_code

    return {variable: provision_code() for variable in load_concession_items(options)["variable"]}


def member_item_columns(raw, options: ConcessionOptions = ConcessionOptions()) -> dict:
    """concession_columns, after checking that every item's variable is a column of the ATOP member file that `raw`
    (a RawData) reads: an item table naming a variable ATOP does not have is refused naming the table and the
    item, before any build or fit."""
    items = load_concession_items(options)
    path = raw.path("atop_members")
    if path.is_file():
        header = set(pd.read_csv(path, nrows=0).columns)
        absent = items[~items["variable"].isin(header)]
        if len(absent):
            row = absent.iloc[0]
            raise ValueError(f"{options.config}: item {row['item']!r} reads ATOP variable {row['variable']!r}, "
                             f"which {path} does not have")
    return concession_columns(options)


def concession_counts(atop_members: pd.DataFrame, pacts: pd.DataFrame,
                      options: ConcessionOptions = ConcessionOptions()) -> pd.DataFrame:
    """`pacts` with concessions_a, concessions_b (concessions each member accepts) and concessions_a_missing,
    concessions_b_missing (items missing for that member and counted as 0).

    atop_members: the raw ATOP member-level frame (atop5_1m.csv; alliance x member x phase).
    pacts: directed dyads forming a bilateral defense pact (atopid, ccode_a, ccode_b, year).
    Member-level items come from the member's own formation row (earliest `yrent`, then phase); alliance-level
    items are read at that phase and credited to both members. ATOP leaves a provision missing when the treaty
    text was not found: it counts as 0 and is flagged in the *_missing count. A member without any row for the
    atopid gets 0 concessions and all items flagged missing. The counts are the Table-5 / Table-2 outcomes and
    are labelled unverified against Johnson (2015).
    """
    missing_cols = [column for column in ("atopid", "ccode_a", "ccode_b", "year") if column not in pacts.columns]
    if missing_cols:
        raise ValueError(f"pacts lacks column(s) {', '.join(missing_cols)}")
    items = load_concession_items(options)
    scores = _member_scores(atop_members, items, options.scoring)
    try:
        keys = pacts[["atopid", "ccode_a", "ccode_b"]].astype("int64")
    except (TypeError, ValueError) as err:
        raise ValueError(f"pacts has missing or non-integer atopid/ccode values ({err})") from err

    out = pacts.copy()
    for side in ("a", "b"):
        side_scores = scores.rename(columns={
            "member": f"ccode_{side}", "concessions": f"concessions_{side}",
            "concessions_missing": f"concessions_{side}_missing"})
        merged = keys[["atopid", f"ccode_{side}"]].merge(side_scores, on=["atopid", f"ccode_{side}"], how="left",
                                                         validate="many_to_one")
        absent = merged[f"concessions_{side}"].isna().to_numpy()
        out[f"concessions_{side}"] = merged[f"concessions_{side}"].fillna(0).astype("int64").to_numpy()
        out[f"concessions_{side}_missing"] = merged[f"concessions_{side}_missing"] \
            .where(~absent, len(items)).astype("int64").to_numpy()
    return out


def concession_metadata(options: ConcessionOptions = ConcessionOptions()) -> dict[str, str]:
    """Provenance of the concession counts (stored in the panel's attrs): scoring, item list, the ATOP variables
    with level and rule, the config file (name and sha256), and the flag that the list is unverified against Johnson (2015)."""
    items = load_concession_items(options)
    variables = ", ".join(f"{row.variable}({row.level},{row.rule})" for row in items.itertuples())
    return {
        "scoring": options.scoring,
        "item_list": options.item_list,
        "variables": variables,
        "n_items": str(len(items)),
        "config": options.config.name,
        "config_sha256": hashlib.sha256(options.config.read_bytes()).hexdigest(),
        "flag": FLAG,
        "note": "../shared/notes/threat-and-concessions.md section B",
    }
