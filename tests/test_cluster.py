"""A real Dask cluster of separate processes (coupproof.cluster, `make cluster`): a scheduler and two workers on
localhost run a small prior-set refit grid; one worker is killed while the grid runs, and the grid still completes
with every fit whole and equal to the serial refits. Slow (two workers compile the model): `make test-cluster`."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from simulate import simulated_panel

from coupproof.cluster import ClusterError, start_cluster, stop_cluster
from inference.fitting import SamplerSettings
from inference.refits import Refit, load_prior_sets, run_refits
from inference.store import load_fit
from models.design import model_data
from models.specs import ModelSpec

pytestmark = pytest.mark.cluster


def test_a_refit_grid_survives_a_killed_worker(tmp_path):
    data = model_data(simulated_panel(n_dyads=60, years=8, beta=(-3.0, 0.8, 0.5, -0.6), sigma=1.0),
                      ModelSpec("t", "y ~ cb * threat + (1 | dyad)"))
    sets = load_prior_sets()
    settings = SamplerSettings(draws=200, tune=200, chains=1, seed=7)
    refits = [Refit(name, sets[name], settings) for name in list(sets)[:4]]
    cluster = start_cluster(tmp_path / "cluster", workers=2)
    try:
        done = []

        def kill_after_first(name, cached):
            done.append(name)
            if len(done) == 1:  # the other worker is still fitting: its task goes to the survivor
                threading.Thread(target=cluster.kill_worker, args=(1,)).start()

        on_cluster = run_refits(data, refits, tmp_path / "dask", "t", cluster.address, kill_after_first)
        assert "Remove worker" in (cluster.folder / "scheduler.log").read_text()  # it did die mid-grid
    finally:
        assert stop_cluster(cluster.folder) >= 2
    assert sorted(done) == sorted(r.prior_set for r in refits)
    serial = run_refits(data, refits, tmp_path / "serial", "t", "serial")
    for name in serial:
        a, b = load_fit(serial[name]), load_fit(on_cluster[name])  # whole files: they load
        np.testing.assert_array_equal(np.asarray(a["posterior"]["coef"]), np.asarray(b["posterior"]["coef"]))
    assert not list((tmp_path / "dask").rglob("*.tmp*"))  # nothing half-written


def test_cluster_errors(tmp_path):
    with pytest.raises(ClusterError, match="workers must be a whole number >= 1, got 0"):
        start_cluster(tmp_path, workers=0)
    with pytest.raises(ClusterError, match="no cluster was started there"):
        stop_cluster(tmp_path)
