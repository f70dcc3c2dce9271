"""The public API is documented in numpydoc: ruff's pydocstyle rules (numpy convention) pass on its modules, every
public function and method says what its parameters are and what it returns, and every stage and entry point of
`import coupproof as cp` has an example."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the modules of the public API: what `import coupproof as cp` gives, the stages, the fit record and the families
PUBLIC = ["coupproof/__init__.py", "coupproof/api.py", "coupproof/defaults.py", *sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "coupproof" / "stages").glob("*.py")),
    "inference/record.py", "models/families.py"]
WITH_EXAMPLES = {"Model", "Fit", "load_panel", "load_fit", "build_panel", "frequentist", "fit_models", "sensitivity",
                 "compare_priors", "robustness", "calibrate", "report", "results_pages"}


def test_ruff_pydocstyle_passes_on_the_public_modules():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed (it is in requirements.lock; run make test)")
    run = subprocess.run([ruff, "check", "--no-cache", "--select", "D", "--ignore", "D105", *PUBLIC], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def _public_functions(path: Path):
    """(qualified name, node) of every public function and method of a module (properties excluded)."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            yield node.name, node
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("_") and not any(
                        getattr(d, "id", getattr(d, "attr", "")) in ("property", "cached_property")
                        for d in item.decorator_list):
                    yield f"{node.name}.{item.name}", item


def _sections(node) -> set[str]:
    text = ast.get_docstring(node) or ""
    lines = text.splitlines()
    return {lines[i].strip() for i in range(len(lines) - 1) if set(lines[i + 1].strip()) == {"-"}}


def test_public_functions_have_parameters_returns_and_examples():
    missing = []
    for relative in PUBLIC:
        for name, node in _public_functions(ROOT / relative):
            sections = _sections(node)
            if isinstance(node, ast.FunctionDef):
                arguments = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
                             if a.arg not in ("self", "cls")]
                if arguments and "Parameters" not in sections:
                    missing.append(f"{relative}: {name}: Parameters")
                returns = node.returns
                if returns is not None and not (isinstance(returns, ast.Constant) and returns.value is None) \
                        and "Returns" not in sections and "Yields" not in sections:
                    missing.append(f"{relative}: {name}: Returns")
            if name in WITH_EXAMPLES and "Examples" not in sections:
                missing.append(f"{relative}: {name}: Examples")
    assert not missing, "numpydoc sections missing:\n" + "\n".join(missing)


def test_the_section_check_reads_numpydoc():
    node = ast.parse('def f(x):\n    """Do.\n\n    Parameters\n    ----------\n    x : int\n        A number.\n    """\n')
    assert _sections(node.body[0]) == {"Parameters"}
