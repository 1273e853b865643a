"""The results table as Parquet: one row per task, in task order."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def write_results(rows: list[dict], path: Path, meta: dict) -> Path:
    """Write ``rows`` (sorted by task) with ``meta`` (the sweep's arguments, grid and
    machine) as JSON in the file's key-value metadata under ``sweep``."""
    if not rows:
        raise ValueError("no rows to write")
    ordered = sorted(rows, key=lambda r: r["task"])
    table = pa.Table.from_pylist(ordered)
    table = table.replace_schema_metadata({"sweep": json.dumps(meta, default=str)})
    pq.write_table(table, path)
    return path


def read_results(path: Path) -> tuple[list[dict], dict]:
    """(rows, meta) of a results file."""
    table = pq.read_table(path)
    meta = json.loads((table.schema.metadata or {}).get(b"sweep", b"{}"))
    return table.to_pylist(), meta
