"""The robustness variants (packaged in `robustness.toml`) as model specs: each variant changes the base models'
formulas (`rename` a variable, `add` terms), the panel build (`panel` options), the design (`monadic`) or the
estimator, so that every variant is fitted by the same model layer, not by a code path of its own. The file's
[suite] table names the main models, what the main tables found for each one's key interaction and the models of
the forest plot (`Suite`), so that no study's model names live in the code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from data_prep.io import check_safe_name, read_toml

from .specs import PAPER_MODELS, ModelSpec, SpecError

VARIANTS_FILE = Path(__file__).resolve().parent / "robustness.toml"
ESTIMATORS = ("logit", "relogit", "firth", "heckman")
DESIGNS = ("dyad", "monadic")
PANEL_OPTIONS = ("max_polity_a",)
KEYS = {"label", "reading", "add", "rename", "panel", "design", "estimator", "models", "formulas", "bayes",
        "exclusion", "selection"}
SUITE = "suite"  # the table of the file that describes the suite itself, not a variant
SUITE_KEYS = {"main", "forest", "key_parts", "findings"}


class VariantError(ValueError):
    """A variant that is malformed or unknown."""


@dataclass(frozen=True)
class BayesVersion:
    """One Bayesian version of a variant: the terms it adds to the base formulas (in place of the variant's
    `add`), and a label."""

    label: str
    add: tuple[str, ...] = ()


@dataclass(frozen=True)
class Variant:
    """One robustness check: how its models differ from the base models, and how they are estimated."""

    name: str
    label: str
    reading: str = ""
    add: tuple[str, ...] = ()
    rename: dict[str, str] = field(default_factory=dict)
    panel: dict[str, int] = field(default_factory=dict)
    design: str = "dyad"
    estimator: str = "logit"
    models: tuple[str, ...] = ("m2", "m4")
    formulas: dict[str, str] = field(default_factory=dict)
    bayes: tuple[BayesVersion, ...] | None = None  # None: one Bayesian refit of the variant itself (logit only)
    exclusion: tuple[str, ...] = ()
    selection: str = ""  # heckman: the binary variable of the selection equation

    def specs(self, extra: tuple[str, ...] = (), suffix: str = "") -> list[ModelSpec]:
        """The variant's model specs (named `<variant>-<model>`), with `extra` terms added."""
        specs = []
        for base_name in self.models:
            base = PAPER_MODELS[base_name]
            formula = self.formulas.get(base_name) or _renamed(base.formula, self.rename)
            formula = _added(formula, (*self.add, *extra))
            specs.append(replace(base, name=f"{self.name}-{base_name}{suffix}", formula=formula,
                                 label=f"{base.label}: {self.label}", paper_table="", figures=(),
                                 focus=_renamed_focus(base, self.rename) if not self.formulas else ()))
        return specs

    def bayes_specs(self) -> list[ModelSpec]:
        """The Bayesian versions' specs (none for estimators the Bayesian model has no analogue of)."""
        if self.estimator == "heckman":
            return []
        versions = self.bayes if self.bayes is not None else (BayesVersion("dyad random intercept"),)
        if not versions:
            return []
        out = []
        for version in versions:
            suffix = "" if len(versions) == 1 else f"-{_slug(version.label)}"
            model = replace(self, add=version.add) if self.bayes else self  # a version's terms replace `add`
            out += [replace(s, label=f"{s.label} ({version.label})") for s in model.specs(suffix=suffix)]
        return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _renamed(formula: str, rename: dict[str, str]) -> str:
    """The formula with each variable in `rename` replaced wherever it appears as a whole name."""
    for old, new in rename.items():
        formula = re.sub(rf"\b{re.escape(old)}\b", new, formula)
    return formula


def _renamed_focus(base: ModelSpec, rename: dict[str, str]) -> tuple[str, ...]:
    return tuple(rename.get(v, v) for v in base.interaction) if base.interaction else ()


def _added(formula: str, terms: tuple[str, ...]) -> str:
    """The formula with `terms` added (a term already there is not repeated)."""
    present = set(ModelSpec("x", formula).parsed.terms) if terms else set()
    new = [t for t in terms if t not in present]
    return formula if not new else f"{formula} + {' + '.join(new)}"


def _variant(name: str, entry: dict, source: str) -> Variant:
    where = f"{source}: [{name}]"
    if not isinstance(entry, dict):
        raise VariantError(f"{where} must be a table")
    check_safe_name(name, f"{where} variant", VariantError)
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise VariantError(f"{where} unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}")
    values = dict(entry)
    values.setdefault("label", name)
    for key in ("add", "models", "exclusion"):
        if key in values:
            values[key] = tuple(values[key])
    if "bayes" in values:
        values["bayes"] = tuple(BayesVersion(v.get("label", ""), tuple(v.get("add", ()))) for v in values["bayes"])
    variant = Variant(name=name, **values)
    if variant.estimator not in ESTIMATORS:
        raise VariantError(f"{where} estimator must be one of {', '.join(ESTIMATORS)}, got {variant.estimator!r}")
    if variant.design not in DESIGNS:
        raise VariantError(f"{where} design must be one of {', '.join(DESIGNS)}, got {variant.design!r}")
    bad_options = sorted(set(variant.panel) - set(PANEL_OPTIONS))
    if bad_options:
        raise VariantError(f"{where} unknown panel option(s) {', '.join(bad_options)}; known: {', '.join(PANEL_OPTIONS)}")
    missing = [m for m in variant.models if m not in PAPER_MODELS]
    if missing:
        raise VariantError(f"{where} unknown base model(s) {', '.join(missing)}")
    if variant.estimator == "heckman" and not variant.exclusion:
        raise VariantError(f"{where} a Heckman model needs an exclusion restriction (exclusion = [...])")
    if variant.estimator == "heckman" and not variant.selection:
        raise VariantError(f"{where} a Heckman model needs the selection equation's outcome (selection = \"...\")")
    try:
        variant.specs(), variant.bayes_specs()
    except SpecError as exc:
        raise VariantError(f"{where} {exc}") from None
    return variant


@dataclass(frozen=True)
class Finding:
    """What the main tables found for a model's key interaction: its sign (-1, 1, or 0: either) and whether it is
    significant at the paper's level."""

    sign: int
    significant: bool

    def describe(self) -> str:
        if not self.significant:
            return "not significant"
        return f"{'negative' if self.sign < 0 else 'positive'} and significant"


@dataclass(frozen=True)
class Suite:
    """The suite: its variants, the main models they are compared with (`main`), what the main tables found for
    each one's key interaction (`findings`), the parts whose interaction is the key one (`key_parts`) and the
    models whose variants the forest plot shows (`forest`)."""

    variants: dict[str, Variant]
    main: tuple[str, ...] = ()
    findings: dict[str, Finding] = field(default_factory=dict)
    key_parts: tuple[str, ...] = ()
    forest: tuple[str, ...] = ()

    def base_model(self, model: str) -> str | None:
        """The main model a variant's model is built on ('full_sample-m4' -> 'm4'; 'm4' -> 'm4')."""
        return next((part for part in model.split("-") if part in self.main), None)


def _suite(entry: dict, variants: dict[str, Variant], source: str) -> Suite:
    where = f"{source}: [{SUITE}]"
    if not isinstance(entry, dict):
        raise VariantError(f"{where} must be a table")
    unknown = sorted(set(entry) - SUITE_KEYS)
    if unknown:
        raise VariantError(f"{where} unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(SUITE_KEYS))}")
    main = tuple(entry.get("main", ()))
    missing = [m for m in (*main, *entry.get("forest", ())) if m not in PAPER_MODELS]
    if missing:
        raise VariantError(f"{where} unknown model(s) {', '.join(missing)}")
    findings = {}
    for model, finding in entry.get("findings", {}).items():
        if model not in main or not isinstance(finding, dict) or finding.get("sign") not in (-1, 0, 1) \
                or not isinstance(finding.get("significant"), bool):
            raise VariantError(f"{where} findings.{model} must name a main model and give sign = -1, 0 or 1 and "
                               "significant = true or false")
        findings[model] = Finding(finding["sign"], finding["significant"])
    return Suite(variants, main, findings, tuple(entry.get("key_parts", ())), tuple(entry.get("forest", ())))


def load_suite(path: str | Path | None = None) -> Suite:
    """The robustness suite of a variant file (default: the packaged one): its [suite] table and every variant,
    checked (each one's specs parse)."""
    path = VARIANTS_FILE if path is None else Path(path)
    config = read_toml(path, "robustness variant file", VariantError)
    variants = {name: _variant(name, entry, str(path)) for name, entry in config.items() if name != SUITE}
    return _suite(config.get(SUITE, {}), variants, str(path))


def load_variants(path: str | Path | None = None) -> dict[str, Variant]:
    """Every variant of the file (default: the packaged suite), checked: each one's specs parse."""
    return load_suite(path).variants


def get_variants(names: str, known: dict[str, Variant]) -> list[Variant]:
    """The variants named in a comma-separated list ('all': every one); an unknown name is an error listing them."""
    chosen = list(known) if names == "all" else [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in known]
    if unknown or not chosen:
        raise VariantError(f"unknown variant(s) {', '.join(unknown) or repr(names)}; known: {', '.join(known)}")
    return [known[n] for n in chosen]
