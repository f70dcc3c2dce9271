"""Sampler settings and the defaults every stage shares: one place for the seed, the sampler and the numbers of
draws, so that the command line, the Python API and the suites cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

from .diagnostics import ESS_MIN

DEFAULT_SEED = 20231  # the random seed of every fit unless one is given
SAMPLERS = ("nutpie", "numpyro", "pymc")
ADAPTATIONS = ("auto", "low_rank", "diag")
WARM_STARTS = ("laplace", "none")  # inference.warm_start; "none": NUTS from the model's initial point
# inclusive ranges of the integer settings (the seed must fit the samplers' 32-bit seeds)
MAX_RETRIES = 3  # refits of a fit that fails its diagnostics gate, each at twice the length of the one before
SETTING_RANGES = {"draws": (1, 1_000_000), "tune": (1, 1_000_000), "chains": (1, 64), "seed": (0, 2**32 - 1),
                  "ess_min": (1, 1_000_000)}


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings, checked on creation. `adaptation` is nutpie's mass matrix: "low_rank" learns the strong
    correlations between an interaction and its constitutive terms; "diag" is the classic diagonal one; "auto"
    (default) takes diag where the model samples the intercepts of a grouping beside the one the kernel integrates
    out (hundreds of non-centred intercepts: Model 4 with sender and receiver intercepts diverged 185 times under
    low_rank and not once under diag, at a quarter of the leapfrog steps per draw), low_rank otherwise.
    `ess_min` is the bulk and tail ESS that the diagnostics gate asks of every population parameter. `warm_start`
    "laplace" starts every chain at the posterior mode and samples in coordinates whitened by the Laplace
    covariance there (inference.warm_start); "none" (default) starts NUTS from the model's initial point: measured
    on Model 4 and dca2 the warm start saved no leapfrog step and cost its compile (docs/models.md)."""

    sampler: str = "nutpie"
    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    seed: int = DEFAULT_SEED
    target_accept: float = 0.85
    adaptation: str = "auto"
    ess_min: int = ESS_MIN
    warm_start: str = "none"

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.sampler!r}; use {', '.join(SAMPLERS)}")
        if self.adaptation not in ADAPTATIONS:
            raise ValueError(f"unknown mass matrix adaptation {self.adaptation!r}; use {', '.join(ADAPTATIONS)}")
        if self.warm_start not in WARM_STARTS:
            raise ValueError(f"unknown warm start {self.warm_start!r}; use {', '.join(WARM_STARTS)}")
        for name, (low, high) in SETTING_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
        if not (isinstance(self.target_accept, (int, float)) and 0 < self.target_accept < 1):
            raise ValueError(f"target_accept must lie strictly between 0 and 1, got {self.target_accept!r}")

    def resolved(self, sampled_groupings: bool) -> "SamplerSettings":
        """The settings with "auto" adaptation made concrete for a model with or without sampled groupings."""
        from dataclasses import replace

        if self.adaptation != "auto":
            return self
        return replace(self, adaptation="diag" if sampled_groupings else "low_rank")

    def retries(self, retries: int) -> list["SamplerSettings"]:
        """The settings of each retry (the retry rule applied 1, 2, ... `retries` times), checked now: at most
        MAX_RETRIES, and every attempt within the settings' limits, so that no retry fails hours into a run."""
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
            raise ValueError(f"retries must be a whole number from 0 to {MAX_RETRIES}, got {retries!r}")
        attempts, current = [], self
        for k in range(1, retries + 1):
            try:
                current = current.longer()
            except ValueError as exc:
                raise ValueError(f"retries: retry {k} would sample at {2**k} times the draws and tuning, beyond "
                                 f"the limits ({exc}); lower the retries, the draws or the tuning") from None
            attempts.append(current)
        return attempts

    def longer(self, factor: int = 2) -> "SamplerSettings":
        """The same settings with `factor` times the draws and tuning iterations: the one retry rule for a fit
        that failed its diagnostics gate."""
        from dataclasses import replace

        return replace(self, draws=factor * self.draws, tune=factor * self.tune)
