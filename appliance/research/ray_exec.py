"""The sweep's tasks on Ray: a local Ray, or an existing cluster by address.

Each data key is loaded once, on the driver, and ``ray.put`` into the object store;
tasks get its reference, so the events cross to a node once (Ray keeps a copy per
node), never once per task. A task runs one backtest and returns its row with the id
of the node it ran on. Only this module imports ray.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

import ray

from .data import LoadedData, load_data
from .plan import DataKey, Task
from .rows import task_row
from .task import run_loaded


class TaskFailed(RuntimeError):
    """A task raised; the message names it and its error."""


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
    (then ``workers`` is ignored: the cluster's CPUs decide). Returns what it joined."""
    kw: dict = {"logging_level": "WARNING", "log_to_driver": False}
    if address:
        ray.init(address=address, **kw)
    else:
        if object_store_mb:
            kw["object_store_memory"] = int(object_store_mb) * 2**20
        ray.init(num_cpus=workers, include_dashboard=False, **kw)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return {"address": address or "local", "nodes": len(nodes),
            "cpus": float(ray.cluster_resources().get("CPU", 0.0)), "ray": ray.__version__}


def disconnect() -> None:
    """Leave the cluster (a local Ray stops with it)."""
    ray.shutdown()


def run_tasks(tasks: list[Task], on_load: Callable[[LoadedData, float], None] | None = None,
              on_row: Callable[[dict], None] | None = None) -> list[dict]:
    """Run every task; rows in completion order. Each data key is loaded and put once,
    and its tasks submitted at once, so they run while the next key loads."""
    by_key: dict[DataKey, list[Task]] = {}
    for t in tasks:
        by_key.setdefault(t.data, []).append(t)
    pending: dict = {}
    for key, group in by_key.items():
        t0 = time.perf_counter()
        data = load_data(key)
        ref = ray.put(data)
        if on_load is not None:
            on_load(data, time.perf_counter() - t0)
        del data  # the object store holds it now
        pending.update({_backtest.remote(t, ref): t for t in group})
    return _gather(pending, on_row)


def _gather(pending: dict, on_row: Callable[[dict], None] | None) -> list[dict]:
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


def _cancel(pending: Iterable) -> None:
    for ref in pending:
        ray.cancel(ref, force=True)


def node_ids() -> list[str]:
    """The ids of the cluster's live nodes."""
    return sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive"))
