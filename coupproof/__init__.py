"""Bayesian workbench for coup-proofing and alliances: `import coupproof as cp` gives the Python API
(`cp.load_panel`, `cp.Model`, `cp.load_fit`, ...); `coupproof` on the command line runs the same steps."""

from __future__ import annotations

__all__ = ["Fit", "Model", "load_fit", "load_panel", "paper_models"]


def __getattr__(name: str):
    """The API, imported on first use (so that `coupproof --help` does not import PyMC)."""
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'coupproof' has no attribute {name!r}")
