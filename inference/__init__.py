"""Sampling, diagnostics and saved InferenceData (issue 5)."""
