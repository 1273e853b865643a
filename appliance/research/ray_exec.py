"""The research tasks on Ray: a local Ray, or an existing cluster by address.

Each data key (each capture, for calibrations) is loaded once, on the driver, and
``ray.put`` into the object store; tasks get its reference, so the events cross to a
node once (Ray keeps a copy per node), never once per task. A backtest task returns
its row, a calibration task its result, with the id of the node it ran on. Only this
module imports ray.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator

import ray

from appliance.config import Config

from .calib_jobs import CalibJob, Pair, load_pair, run_job
from .data import LoadedData, load_data
from .plan import DataKey, Task
from .rows import task_row
from .task import run_loaded

_owned = [False]  # whether connect() started the Ray this process is joined to


class TaskFailed(RuntimeError):
    """A task raised; the message names it and its error."""


class RayUnavailable(RuntimeError):
    """A local Ray that did not start, or a cluster that could not be joined."""


# a failure is a result to report, not to retry; SPREAD: every node gets work even when
# the first to take a task could queue them all
@ray.remote(num_cpus=1, max_retries=0, scheduling_strategy="SPREAD")
def _backtest(task: Task, data: LoadedData) -> dict:
    t0 = time.perf_counter()
    result = run_loaded(task, data)
    row = task_row(task, result.report)
    row["node_id"] = ray.get_runtime_context().get_node_id()
    row["worker_pid"] = os.getpid()
    row["task_wall_s"] = time.perf_counter() - t0
    return row


def connect(address: str | None, workers: int, object_store_mb: int | None = None) -> dict:
    """Start a local Ray with ``workers`` CPUs, or join the cluster at ``address``
    (then ``workers`` is ignored: the cluster's CPUs decide); a process already joined
    to a Ray (a test's shared local Ray) keeps it. Returns what it joined."""
    kw: dict = {"logging_level": "WARNING", "log_to_driver": False}
    _owned[0] = not ray.is_initialized()
    try:
        if _owned[0] and address:
            ray.init(address=address, **kw)
        elif _owned[0]:
            if object_store_mb:
                kw["object_store_memory"] = int(object_store_mb) * 2**20
            ray.init(num_cpus=workers, include_dashboard=False, **kw)
    except Exception as e:  # noqa: BLE001 - ray.init raises bare Exceptions (a node start timeout)
        _owned[0] = False
        where = f"join the Ray cluster at {address}" if address else "start a local Ray"
        raise RayUnavailable(f"could not {where}: {type(e).__name__}: {e}") from None
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return {"address": address or "local", "nodes": len(nodes),
            "cpus": float(ray.cluster_resources().get("CPU", 0.0)), "ray": ray.__version__}


def disconnect() -> None:
    """Leave the cluster (a local Ray stops with it); a Ray that connect() found
    running is left as it was."""
    if _owned[0]:
        ray.shutdown()
        _owned[0] = False


@contextlib.contextmanager
def tasks_raising(error: type[Exception]) -> Iterator[None]:
    """Run the tasks of a sweep, a search or calibrations: a failed task, or data that cannot be read,
    raised as ``error`` with its reason; the cluster left in any case."""
    try:
        yield
    except TaskFailed as e:
        raise error(str(e)) from None
    except ValueError as e:  # a source that cannot be read
        raise error(f"cannot load the data: {e}") from None
    finally:
        disconnect()


class DataRefs:
    """Object-store references of loaded data keys: each key loaded and put once, on
    first use."""

    def __init__(self, on_load: Callable[[LoadedData, float], None] | None = None) -> None:
        self._refs: dict[DataKey, ray.ObjectRef] = {}
        self._on_load = on_load

    def ref(self, key: DataKey) -> ray.ObjectRef:
        if key not in self._refs:
            t0 = time.perf_counter()
            data = load_data(key)
            self._refs[key] = ray.put(data)
            if self._on_load is not None:
                self._on_load(data, time.perf_counter() - t0)
            del data  # the object store holds it now
        return self._refs[key]


def submit_tasks(tasks: list[Task], refs: DataRefs) -> dict:
    """Submit every task (grouped by data key, so a key's tasks run while the next key
    loads); returns {result reference: task} for ``gather_rows``."""
    by_key: dict[DataKey, list[Task]] = {}
    for t in tasks:
        by_key.setdefault(t.data, []).append(t)
    pending: dict = {}
    for key, group in by_key.items():
        ref = refs.ref(key)
        pending.update({_backtest.remote(t, ref): t for t in group})
    return pending


def run_tasks(tasks: list[Task], on_load: Callable[[LoadedData, float], None] | None = None,
              on_row: Callable[[dict], None] | None = None) -> list[dict]:
    """Run every task; rows in completion order."""
    return gather_rows(submit_tasks(tasks, DataRefs(on_load)), on_row)


def gather_rows(pending: dict, on_row: Callable[[dict], None] | None = None) -> list[dict]:
    """The rows of submitted tasks, in completion order; TaskFailed (the others
    cancelled) when one raised."""
    rows = []
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            task = pending.pop(ref)
            try:
                row = ray.get(ref)
            except ray.exceptions.RayError as e:
                _cancel(pending)
                raise TaskFailed(f"task {task.index} ({task.point.label}; {task.spec}, seed "
                                 f"{task.seed}) failed: {e}") from None
            rows.append(row)
            if on_row is not None:
                on_row(row)
    return rows


@ray.remote(num_cpus=1, max_retries=0, scheduling_strategy="SPREAD")
def _calibrate(job: CalibJob, cfg: Config, backtests: bool, max_seconds: float | None,
               pairs: tuple[Pair, ...], *loaded: tuple) -> dict:
    t0 = time.perf_counter()
    res = run_job(job, cfg, dict(zip(pairs, loaded, strict=True)), backtests=backtests,
                  max_seconds=max_seconds)
    return {"result": res, "node_id": ray.get_runtime_context().get_node_id(),
            "worker_pid": os.getpid(), "wall_s": time.perf_counter() - t0}


def run_calibrations(jobs: list[CalibJob], cfg: Config, *, backtests: bool = True,
                     max_seconds: float | None = None,
                     on_load: Callable[[Pair, int, float], None] | None = None,
                     on_done: Callable[[CalibJob, dict], None] | None = None) -> dict[int, dict]:
    """Run every calibration; {job index: {"result", "node_id", "worker_pid", "wall_s"}}.
    Each capture is loaded and put once (``on_load(pair, events, seconds)``); a job is
    submitted as soon as every capture it reads is in the object store."""
    refs: dict[Pair, ray.ObjectRef] = {}
    pending: dict = {}
    waiting = list(jobs)
    order = list(dict.fromkeys(p for j in jobs for p in j.pairs))
    for pair in order:
        t0 = time.perf_counter()
        ev, stats = load_pair(pair, max_seconds)
        refs[pair] = ray.put((ev, stats))
        if on_load is not None:
            on_load(pair, int(ev.shape[0]), time.perf_counter() - t0)
        del ev
        ready = [j for j in waiting if all(p in refs for p in j.pairs)]
        for j in ready:
            waiting.remove(j)
            pending[_calibrate.remote(j, cfg, backtests, max_seconds, j.pairs,
                                      *(refs[p] for p in j.pairs))] = j
    out: dict[int, dict] = {}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            job = pending.pop(ref)
            try:
                out[job.index] = ray.get(ref)
            except ray.exceptions.RayError as e:
                _cancel(pending)
                raise TaskFailed(f"calibration {job.name} failed: {_cause(e)}") from None
            if on_done is not None:
                on_done(job, out[job.index])
    return out


def _cause(e: Exception) -> str:
    """A task's own error (a CalibrationError's reason) rather than Ray's wrapper."""
    cause = getattr(e, "cause", None)
    return f"{cause}" if cause is not None else str(e)


def _cancel(pending: Iterable) -> None:
    for ref in pending:
        ray.cancel(ref, force=True)


def node_ids() -> list[str]:
    """The ids of the cluster's live nodes."""
    return sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive"))
