"""Same seed, same draws: a fit is bit-identical in this process and in a subprocess with other thread settings
(BLAS, OpenMP, numba) and an empty PyTensor cache, so that its log density is compiled afresh. (The Dask worker is
covered in test_sensitivity.)

The cause of the old difference: the kernel was compiled into PyTensor's numba function, where LLVM optimised it
in that function's context (with fast-math, and differently again when the function was loaded from PyTensor's
cache), so its gradient differed in the last bits between processes and NUTS amplified that within a few dozen
iterations. The kernel now runs without fast-math and as one separately compiled function in every backend."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inference.fitting import SamplerSettings, fit
from models.design import model_data
from models.priors import load_priors
from simulate import SPEC, simulated_panel

TESTS = Path(__file__).resolve().parent
SETTINGS = dict(draws=20, tune=20, chains=2, seed=11)
FIT_SCRIPT = f"""
import hashlib, sys
sys.path.insert(0, {str(TESTS)!r})
import numpy as np
from inference.fitting import SamplerSettings, fit
from models.design import model_data
from models.priors import load_priors
from simulate import SPEC, simulated_panel

data = model_data(simulated_panel(n_dyads=40, years=6, beta=(-2.5, 0.8, 0.5, -0.6), sigma=1.0), SPEC)
idata, _ = fit(data, load_priors(), SamplerSettings(**{SETTINGS!r}), group_outputs=False)
print("DRAWS", hashlib.sha256(np.ascontiguousarray(idata["posterior"]["coef"]).tobytes()).hexdigest())
"""


def _draws_digest(idata) -> str:
    return hashlib.sha256(np.ascontiguousarray(idata["posterior"]["coef"]).tobytes()).hexdigest()


@pytest.mark.slow
def test_fit_is_bit_identical_in_a_subprocess_with_other_threads_and_fresh_caches(tmp_path):
    data = model_data(simulated_panel(n_dyads=40, years=6, beta=(-2.5, 0.8, 0.5, -0.6), sigma=1.0), SPEC)
    here, _ = fit(data, load_priors(), SamplerSettings(**SETTINGS), group_outputs=False)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1", "PYTENSOR_FLAGS": f"base_compiledir={tmp_path / 'pytensor'}"}
    result = subprocess.run([sys.executable, "-c", FIT_SCRIPT], env=env, capture_output=True, text=True,
                            timeout=600, cwd=TESTS.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    digest = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("DRAWS ")]
    assert digest == [_draws_digest(here)]
    assert "numerics" in here.attrs and "no fast-math" in here.attrs["numerics"]
