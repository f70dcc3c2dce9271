"""Model specifications (outcome, covariates, interaction, sample, family), separate from any fitting code.

The paper's six models are defined here once; the frequentist reproduction and the PyMC builders both read them.
Covariate names are panel variables; an interaction is written "x:z" and built as the product of the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTROLS = ("shared_defense_pact", "regime_difference", "recent_coup_a", "new_regime_a", "military_regime_a")


@dataclass(frozen=True)
class ModelSpec:
    """One model: a logit of a binary outcome, or a hurdle model of a count (zero part logit, truncated counts)."""

    name: str
    label: str
    family: str  # "logit" or "hurdle"
    outcome: str
    covariates: tuple[str, ...]
    interaction: tuple[str, str]
    sample: str  # name of the panel's boolean mask
    group: str = "dyad"
    description: str = ""
    paper_table: str = field(default="")

    @property
    def interaction_term(self) -> str:
        return f"{self.interaction[0]}:{self.interaction[1]}"

    @property
    def terms(self) -> tuple[str, ...]:
        """Covariates in order, with the interaction after its constitutive terms."""
        return (*self.covariates, self.interaction_term)

    @property
    def variables(self) -> tuple[str, ...]:
        """Every panel variable the model reads."""
        return (self.outcome, *dict.fromkeys((*self.covariates, *self.interaction)))


def _logit(name, label, covariates, interaction, sample, description):
    return ModelSpec(name, label, "logit", "new_defense_pact", covariates, interaction, sample,
                     description=description, paper_table="Table 1")


PAPER_MODELS: dict[str, ModelSpec] = {
    "m1": _logit("m1", "Table 1 Model 1", ("counterbalancing_a", "threat_a"), ("counterbalancing_a", "threat_a"),
                 "sample_no_controls", "entanglement: counterbalancing x threat to A, no controls"),
    "m2": _logit("m2", "Table 1 Model 2", ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS),
                 ("counterbalancing_a", "threat_a"), "sample_controls",
                 "entanglement: counterbalancing x threat to A, with controls"),
    "m3": _logit("m3", "Table 1 Model 3", ("counterbalancing_a", "threat_b"), ("counterbalancing_a", "threat_b"),
                 "sample_no_controls", "aggregate capabilities: counterbalancing x threat to B, no controls"),
    "m4": _logit("m4", "Table 1 Model 4", ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS),
                 ("counterbalancing_a", "threat_b"), "sample_controls",
                 "aggregate capabilities: counterbalancing x threat to B, with controls"),
    "h1": ModelSpec("h1", "Table 2 Model 1", "hurdle", "concessions_a",
                    ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS), ("counterbalancing_a", "threat_a"),
                    "sample_controls", description="concessions by A: counterbalancing x threat to A",
                    paper_table="Table 2"),
    "h2": ModelSpec("h2", "Table 2 Model 2", "hurdle", "concessions_b",
                    ("counterbalancing_a", "threat_a", "threat_b", *CONTROLS), ("counterbalancing_a", "threat_b"),
                    "sample_controls", description="concessions by B: counterbalancing x threat to B",
                    paper_table="Table 2"),
}


def get_spec(name: str, specs: dict[str, ModelSpec] = PAPER_MODELS) -> ModelSpec:
    """The spec called `name`; an unknown name raises KeyError listing the known ones."""
    try:
        return specs[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(specs)}") from None
