"""Refits of a model under alternative prior sets, fanned out on Dask and cached.

A prior-set file (TOML) has one table per set, each overriding groups of the default priors with the prior-file
syntax; the packaged `models/priors/sensitivity.toml` is the default. Every set is checked before any fitting.
Refits are independent, so they run as Dask tasks: on a `LocalCluster` on this machine by default, or on an
existing cluster (`scheduler="tcp://host:8786"`); `scheduler="serial"` runs them in this process. Each finished
refit is saved under a cache key (panel checksum, model spec, priors, sampler and quadrature settings), so a
rerun fits only what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from data_prep.io import check_safe_name, read_toml
from models.builders import build_model
from models.design import ModelData
from models.priors import Prior, PriorError, parse_priors, priors_config
from models.quadrature import QuadratureOptions

from .fitting import fit
from .record import FitFileError, PanelRef
from .settings import SamplerSettings
from .store import load_fit_with_record, save_fit

DEFAULT_PRIOR_SETS = Path(__file__).resolve().parents[1] / "models" / "priors" / "sensitivity.toml"
CONNECT_TIMEOUT = "10s"  # how long to try reaching a named Dask scheduler
CACHE_VERSION = 5  # bump when the fitting code changes what a cached refit contains


class SensitivityError(ValueError):
    """A prior-set file or a scheduler that cannot be used."""


def load_prior_sets(path: str | Path | None = None) -> dict[str, dict[str, Prior]]:
    """'default' plus every set of the file (default: the packaged one), each a full prior dict; any unknown
    parameter, distribution or argument raises PriorError naming the file and the set, before any fitting."""
    path = DEFAULT_PRIOR_SETS if path is None else Path(path)
    config = read_toml(path, "prior-set file", PriorError)
    sets = {"default": parse_priors({}, "default priors")}
    for name, entry in config.items():
        if not isinstance(entry, dict) or not entry:
            raise PriorError(f"{path}: [{name}] must be a table of prior groups")
        if name == "default":
            raise PriorError(f"{path}: [default] is reserved for the default priors; name your set otherwise")
        check_safe_name(name, f"{path}: prior set", PriorError)  # the name becomes part of a cached fit's file name
        sets[name] = parse_priors(entry, f"{path} [{name}]")
    return sets


@dataclass(frozen=True)
class Refit:
    """One refit: a model's data under one prior set."""

    prior_set: str
    priors: dict[str, Prior]
    settings: SamplerSettings
    quadrature: QuadratureOptions = QuadratureOptions()

    def key(self, data: ModelData, panel_checksum: str) -> str:
        """Cache key: everything that determines the draws."""
        record = {"panel": panel_checksum, "spec": asdict(data.spec), "settings": asdict(self.settings),
                  "priors": priors_config(self.priors),
                  "quadrature": self.quadrature.cache_record(), "version": CACHE_VERSION}
        return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:20]


def run_refit(data: ModelData, refit: Refit, panel_checksum: str = ""):
    """Fit once (the spec's method, without the per-group outputs a refit does not need); returns the DataTree,
    whose record names the prior set."""
    idata, _diagnostics = fit(data, refit.priors, refit.settings, None, refit.quadrature,
                              panel=PanelRef(checksum=panel_checksum), group_outputs=False,
                              prior_set=refit.prior_set)
    return idata


def check_builds(data: ModelData, refit: Refit) -> None:
    """Build the refit's model here (well under a second) so that a prior the model cannot take fails now, naming
    the set, rather than on a worker after the other refits have spent their time."""
    try:
        build_model(data, refit.priors, None, refit.quadrature)
    except Exception as exc:  # noqa: BLE001 (any build failure is reported as the set's)
        raise SensitivityError(f"prior set [{refit.prior_set}]: the {data.spec.name} model cannot be built "
                               f"({type(exc).__name__}: {exc})") from exc


def _client(scheduler: str | None, chains: int):
    """A Dask client: the given scheduler (checked now, with a clear error) or a LocalCluster sized so that its
    workers' chains fill the cores. Never the process's default client: work is submitted to it explicitly, and a
    client that failed to connect must not stay behind as every later dask computation's scheduler."""
    from dask.distributed import Client, LocalCluster
    from distributed.comm import get_address_host_port

    if scheduler:
        try:
            get_address_host_port(scheduler)  # a malformed address fails here, before a client is half-made
            return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SensitivityError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
    workers = max(1, (os.cpu_count() or 1) // max(chains, 1))
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster, set_as_default=False)


HANDSHAKE_TIMEOUT = 10.0  # seconds a scheduler has to answer Dask's identity request


async def _identity(address: str) -> dict:
    """Ask whatever listens at `address` for its Dask identity (the scheduler's reply to op 'identity')."""
    from distributed.comm import connect

    comm = await connect(address, timeout=HANDSHAKE_TIMEOUT)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def check_scheduler(scheduler: str | None) -> None:
    """Fail now, before any fitting, if a named Dask scheduler cannot be reached or does not answer as one within
    HANDSHAKE_TIMEOUT seconds (a port that accepts connections but speaks another protocol, e.g. HTTP, would
    otherwise hang the client forever)."""
    if not scheduler or scheduler == "serial":
        return
    import asyncio

    from distributed.comm import get_address_host_port

    try:
        get_address_host_port(scheduler)
        reply = asyncio.run(asyncio.wait_for(_identity(scheduler), HANDSHAKE_TIMEOUT))
    except (TimeoutError, asyncio.TimeoutError):
        raise SensitivityError(f"cannot reach the Dask scheduler at {scheduler} (no answer as a Dask scheduler "
                               f"within {HANDSHAKE_TIMEOUT:g} s: nothing listens there, or something else does)"
                               ) from None
    except Exception as exc:  # noqa: BLE001 - refused, reset, malformed address, a reply that is not Dask's
        raise SensitivityError(f"cannot reach the Dask scheduler at {scheduler} "
                               f"({type(exc).__name__}: {' '.join(str(exc).split())})") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise SensitivityError(f"{scheduler} answered, but not as a Dask scheduler")
    _client(scheduler, 1).close()


def run_refits(data: ModelData, refits: list[Refit], cache: Path, panel_checksum: str = "",
               scheduler: str | None = None, on_done: Callable[[str, bool], None] | None = None) -> dict[str, Path]:
    """Fit every refit not already in `cache` (in parallel on Dask, or serially with scheduler="serial") and
    return {prior set: fit file}. `on_done(prior_set, from_cache)` reports each one as it finishes."""
    paths = run_fits([(data, refit) for refit in refits], cache, panel_checksum, scheduler,
                     None if on_done is None else (lambda job, cached: on_done(job[1].prior_set, cached)))
    return {refit.prior_set: path for refit, path in zip(refits, paths)}


def fit_path(cache: Path, data: ModelData, refit: Refit, panel_checksum: str) -> Path:
    """Where a fit is cached: the model's name, the prior set and the key of everything that determines it."""
    return Path(cache) / f"{data.spec.name}-{refit.prior_set}-{refit.key(data, panel_checksum)}.nc"


Job = tuple[ModelData, Refit]


def longer(refit: Refit) -> Refit:
    """The refit at the retry rule's length (`SamplerSettings.longer`), for a fit that failed its diagnostics."""
    return replace(refit, settings=refit.settings.longer())


def passed(path: Path) -> bool:
    """Whether a saved fit passed its diagnostics gate."""
    return load_fit_with_record(path)[1].diagnostics_passed


def run_fits(jobs: list[Job], cache: Path, panel_checksum: str = "", scheduler: str | None = None,
             on_done: Callable[[Job, bool], None] | None = None, retries: int = 0) -> list[Path]:
    """Fit every (model data, refit) job not already in `cache`, in parallel on Dask (one task per job; each
    model's data is sent to the workers once) or serially with scheduler="serial"; returns each job's fit file,
    in order. `on_done(job, from_cache)` reports each one as it finishes. With `retries`, a fit that fails its
    diagnostics is refitted at twice the length (cached under its own key), up to that many times; the returned
    path is the last attempt's, flagged by its own diagnostics if it failed again."""
    paths = _run_once(jobs, cache, panel_checksum, scheduler, on_done)
    failed = [i for i, path in enumerate(paths) if retries > 0 and not passed(path)]
    if failed:
        again = run_fits([(jobs[i][0], longer(jobs[i][1])) for i in failed], cache, panel_checksum, scheduler,
                         on_done, retries - 1)
        for i, path in zip(failed, again):
            paths[i] = path
    return paths


def _run_once(jobs: list[Job], cache: Path, panel_checksum: str, scheduler: str | None,
              on_done: Callable[[Job, bool], None] | None) -> list[Path]:
    paths = [fit_path(cache, data, refit, panel_checksum) for data, refit in jobs]
    todo = []  # (job, path) of every fit not in the cache
    for job, path in zip(jobs, paths):
        try:
            load_fit_with_record(path)
            if on_done:
                on_done(job, True)
        except FitFileError:
            todo.append((job, path))
    for (data, refit), _path in todo:
        check_builds(data, refit)
    tasks = [(data, refit, panel_checksum) for (data, refit), _path in todo]

    def save(task: int, idata) -> None:
        job, path = todo[task]
        save_fit(idata, path)
        if on_done:
            on_done(job, False)

    fan_out(run_refit, tasks, scheduler, todo[0][0][1].settings.chains if todo else 1, save)
    return paths


def fan_out(function: Callable, tasks: list[tuple], scheduler: str | None, chains: int,
            on_result: Callable[[int, object], None]) -> None:
    """Call `function(*task)` for every task as Dask tasks (a LocalCluster sized for `chains` per fit, or the named
    scheduler), or in this process with scheduler="serial"; `on_result(task index, result)` runs here as each one
    finishes. Each task's first argument (the model's data) is sent to the workers once."""
    if not tasks:
        return
    if scheduler == "serial":
        for index, task in enumerate(tasks):
            on_result(index, function(*task))
        return
    from dask.distributed import as_completed

    client = _client(scheduler, chains)
    try:
        shared = {}  # each model's data, sent to the workers once
        for task in tasks:
            if id(task[0]) not in shared:
                shared[id(task[0])] = client.scatter(task[0], broadcast=True)
        futures = {client.submit(function, shared[id(task[0])], *task[1:], pure=False): index
                   for index, task in enumerate(tasks)}
        for future in as_completed(futures, loop=client.loop):
            on_result(futures[future], future.result())
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()
