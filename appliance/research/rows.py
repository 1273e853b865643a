"""One row of the results table per task: what was run, and what came of it.

Columns: the task (index, grid point, its parameters as ``param.<key>``, data, coin,
seed), where it ran (``node_id``, ``worker_pid``), activity (events, orders, fills,
volume), P&L and its attribution components, markouts by horizon, the fills' digest
(equal digests, equal fills) and the model scores' degraded list.
"""

from __future__ import annotations

import json

from .plan import Task, data_label

# report key -> column (names with units)
_COUNTS = {
    "events": "events", "fills": "fills", "maker_fills": "maker_fills", "taker_fills": "taker_fills",
    "orders_placed": "orders_placed", "orders_cancelled": "orders_cancelled",
    "orders_modified": "orders_modified", "orders_rejected": "orders_rejected",
    "requotes": "requotes",
}
_FLOATS = {
    "seconds_simulated": "seconds_simulated", "volume": "volume_usd", "fees": "fees_usd",
    "pnl": "pnl_usd", "realized_pnl": "realized_pnl_usd", "final_position_sz": "final_position_sz",
    "max_abs_inventory_frac": "max_abs_inventory_frac", "spread_capture_bps": "spread_capture_bps",
    "spread_capture_net_bps": "spread_capture_net_bps",
}
ATTRIBUTION = ("spread_usd", "adverse_selection_usd", "inventory_usd", "funding_usd", "fees_usd",
               "residual_usd")
# not the outcome of the backtest: where and how fast it ran
RUN_COLUMNS = ("node_id", "worker_pid", "task_wall_s", "sim_wall_s")


def param_column(key: str) -> str:
    return f"param.{key}"


def _plain(v: object) -> object:
    """A parameter value a Parquet column holds: lists and tuples as JSON text."""
    return json.dumps(list(v)) if isinstance(v, list | tuple) else v


def _float(v: object) -> float:
    return float("nan") if v is None else float(v)


def task_row(task: Task, report: dict) -> dict:
    """The row of ``task`` from its backtest report (run columns left empty)."""
    row: dict = {"task": task.index, "point": task.point.index, "point_label": task.point.label}
    row.update({param_column(k): _plain(v) for k, v in task.point.params})
    row.update({"data": data_label(task.spec), "spec": task.spec, "coin": task.data.coin,
                "seed": task.seed, "duration_s": _float(task.data.duration_s)})
    row.update({col: int(report[k]) for k, col in _COUNTS.items()})
    row.update({col: _float(report[k]) for k, col in _FLOATS.items()})
    attribution = report["attribution"]
    row.update({f"attr_{name}": _float(attribution.get(name)) for name in ATTRIBUTION})
    row.update({f"markout_{h}_bps": _float(v) for h, v in report["markout_bps"].items()})
    row["digest"] = report["digest"]
    row["config_hash"] = report["config_hash"]
    degraded = report.get("scores", {}).get("model_degraded", [])
    row["models_degraded"] = ",".join(degraded)
    row["n_models_degraded"] = len(degraded)
    row.update({"node_id": "", "worker_pid": 0, "task_wall_s": float("nan"),
                "sim_wall_s": _float(report.get("wall_s"))})
    return row


def outcome(row: dict) -> dict:
    """The columns that must not change between two runs of the same task."""
    return {k: v for k, v in row.items() if k not in RUN_COLUMNS}
