"""Command-line entry point of the coup-proofing and alliances workbench."""
