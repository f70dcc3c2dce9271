"""PyMC model specs and builders (issue 5)."""
