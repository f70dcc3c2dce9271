"""A Dask cluster of separate processes (`dask scheduler`, `dask worker`) on this machine, for `make cluster`.

Every fan-out command (`sensitivity`, `priors`, `robustness`, `validate`) takes `--scheduler tcp://host:port`;
this starts one to give them, detached from the command that started it, and stops it again. On a real cluster
the same two programs run under SLURM (dask-jobqueue) or Kubernetes (dask-kubernetes / the Dask Helm chart):
docs/reliability.md. The folder holds the scheduler file (its address), the logs and the process ids.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SCHEDULER_FILE = "scheduler.json"
PIDS = "pids.json"
START_TIMEOUT = 60.0  # seconds the scheduler and workers have to come up


class ClusterError(RuntimeError):
    """A cluster that could not be started, reached or stopped."""


def _dask() -> list[str]:
    """The `dask` command of this environment."""
    return [sys.executable, "-m", "dask"]


@dataclass(frozen=True)
class Cluster:
    """A running cluster: its scheduler's address, the process ids of the scheduler and of each worker."""

    address: str
    scheduler_pid: int
    worker_pids: tuple[int, ...]
    folder: Path

    def kill_worker(self, index: int) -> None:
        """Kill one worker at once (SIGKILL), as a failing machine would go."""
        os.kill(self.worker_pids[index], signal.SIGKILL)


def _write_pids(folder: Path, scheduler: int, workers: list[int]) -> None:
    from data_prep.io import atomic_write_text

    atomic_write_text(folder / PIDS, json.dumps({"scheduler": scheduler, "workers": workers}))


def _wait_for_workers(address: str, workers: int, timeout: float) -> None:
    from dask.distributed import Client

    with Client(address, timeout=timeout, set_as_default=False) as client:
        client.wait_for_workers(workers, timeout=timeout)


def start_cluster(folder: str | os.PathLike, workers: int = 2, threads: int = 1, port: int = 0,
                  timeout: float = START_TIMEOUT) -> Cluster:
    """Start a scheduler and `workers` worker processes (no nanny: a killed worker stays dead, its tasks go to the
    others) with `threads` threads each, detached from this process; wait until every worker has joined."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ClusterError(f"workers must be a whole number >= 1, got {workers!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / SCHEDULER_FILE
    scheduler_file.unlink(missing_ok=True)
    with open(folder / "scheduler.log", "w") as log:
        scheduler = subprocess.Popen([*_dask(), "scheduler", "--scheduler-file", str(scheduler_file), "--port",
                                      str(port), "--no-dashboard"], stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
    began = time.monotonic()
    while not scheduler_file.is_file():
        if scheduler.poll() is not None or time.monotonic() - began > timeout:
            scheduler.kill()
            raise ClusterError(f"the Dask scheduler did not start (see {folder / 'scheduler.log'})")
        time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    pids = []
    for index in range(workers):
        with open(folder / f"worker-{index}.log", "w") as log:
            pids.append(subprocess.Popen([*_dask(), "worker", "--scheduler-file", str(scheduler_file), "--nthreads",
                                          str(threads), "--name", f"worker-{index}", "--no-nanny",
                                          "--no-dashboard"], stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True).pid)
    _write_pids(folder, scheduler.pid, pids)
    try:
        _wait_for_workers(address, workers, max(timeout - (time.monotonic() - began), 5.0))
    except (OSError, TimeoutError) as exc:
        stop_cluster(folder)
        raise ClusterError(f"the Dask workers did not join the scheduler at {address} ({exc}; see the logs in "
                           f"{folder})") from None
    return Cluster(address, scheduler.pid, tuple(pids), folder)


def stop_cluster(folder: str | os.PathLike) -> int:
    """Stop the processes of the cluster started in `folder` (workers first); returns how many were running."""
    path = Path(folder) / PIDS
    if not path.is_file():
        raise ClusterError(f"{folder}: no cluster was started there (no {PIDS})")
    pids = json.loads(path.read_text())
    stopped = 0
    for pid in [*pids["workers"], pids["scheduler"]]:
        try:
            os.kill(pid, signal.SIGTERM)
            stopped += 1
        except ProcessLookupError:
            pass
    path.unlink()
    (Path(folder) / SCHEDULER_FILE).unlink(missing_ok=True)
    return stopped
