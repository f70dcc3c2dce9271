"""The import graph is one-way: raw data -> data_prep -> models -> inference -> reports -> the API -> the stages ->
the command line. Every import of the project's own packages, at module level or inside a function, is checked
against the layers (a module may import its own layer and the layers above it in this list, never a later one)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("data_prep", "models", "inference", "reports", "coupproof.api", "coupproof.stages", "coupproof.cli")
# small modules that belong with the API's layer; the package itself (`import coupproof as cp`) is the façade over
# the API and the stages, at the top with the command line
SHARED = {"coupproof.defaults": "coupproof.api", "coupproof.display": "coupproof.api"}


def layer(module: str) -> int | None:
    """The layer of a dotted module name (None for a module outside the project)."""
    if module == "coupproof":
        return LAYERS.index("coupproof.cli")
    for prefix, layer_of in SHARED.items():
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS.index(layer_of)
    matches = [i for i, name in enumerate(LAYERS) if module == name or module.startswith(name + ".")]
    return max(matches) if matches else None


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, relative imports resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]  # `from . import stages`
    return found


def test_every_import_points_up_the_layers():
    violations = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.parts[len(ROOT.parts)] not in {"data_prep", "models", "inference", "reports", "coupproof"}:
            continue
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        own = layer(module)
        for line, imported in imports(path):
            other = layer(imported)
            if other is not None and own is not None and other > own:
                violations.append(f"{path.relative_to(ROOT)}:{line} ({LAYERS[own]}) imports {imported} "
                                  f"({LAYERS[other]})")
    assert not violations, "imports against the layers:\n" + "\n".join(violations)


def test_the_layer_rule_sees_a_violation():
    """The checker itself: a report importing the API, or the API a stage, is caught; the reverse is not."""
    assert layer("reports.bayes_report") < layer("coupproof.api") < layer("coupproof.stages.fit")
    assert layer("coupproof.defaults") == layer("coupproof.api") < layer("coupproof.cli")
    assert layer("numpy") is None and layer("data_prep.panel") == 0 and layer("coupproof") == len(LAYERS) - 1
