"""mmctl data ls|export (and info on a catalog) and mmctl history: the recorder's catalog.

Where the catalog is: ``DIR`` when given, else the instance's ``[recorder] dir``
(``{state_dir}/catalog`` by default). Reading is pyarrow only (no DuckDB needed);
the files are plain Parquet that DuckDB and pandas read as they are.
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import click
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from appliance.catalog import KINDS, files, is_catalog, summary
from appliance.catalog.reader import DEFAULT_GAP_S
from appliance.config import recorder_dir

from .common import load

_REL = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_time_ns(text: str | None, now_ns: int | None = None) -> int | None:
    """``30m``, ``2h``, ``1d`` (ago), an ISO date or time (UTC unless it says), or
    ns since the epoch -> ns since the epoch; None for None."""
    if text is None:
        return None
    t = text.strip()
    m = _REL.match(t)
    if m:
        now = time.time_ns() if now_ns is None else now_ns
        return now - int(float(m.group(1)) * _UNIT_S[m.group(2)] * 1e9)
    if t.isdigit():
        return int(t)
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: give 30m, 2h, 1d (ago), an ISO time "
                                 "(2026-12-03T15:00) or ns since the epoch") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1e9)


def catalog_dir(path: str | None, config_path: str | None, instance: str) -> Path:
    """``path``, or the instance's recorder directory; an error naming it when it is
    not a catalog."""
    p = Path(path) if path else recorder_dir(load(config_path), instance)
    if not p.exists():
        raise click.ClickException(f"no catalog at {p} (is [recorder] enabled? give DIR)")
    if not is_catalog(p):
        raise click.ClickException(f"{p} holds no recorder catalog files")
    return p


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def ls_rows(path: Path, gap_s: float) -> list[dict[str, object]]:
    return [{"kind": s.kind, "coin": s.coin, "files": s.files, "rows": s.rows, "bytes": s.bytes,
             "first": _iso(s.first_ts_ns), "last": _iso(s.last_ts_ns),
             "span_s": round((s.last_ts_ns - s.first_ts_ns) / 1e9, 3), "lost_events": s.lost_events,
             "gaps": [{"from": _iso(a), "to": _iso(b), "s": round((b - a) / 1e9, 1)} for a, b in s.gaps]}
            for s in summary(path, gap_s)]


def print_ls(path: Path, rows: list[dict[str, object]]) -> None:
    click.echo(f"catalog {path}")
    status = path / "recorder.json"
    if status.is_file():
        try:
            st = orjson.loads(status.read_bytes())
            state = "ok" if st.get("ok") else f"FAILING: {st.get('last_error')}"
            click.echo(f"recorder {state}; rows dropped {st.get('rows_dropped', 0)}, "
                       f"ring events lost {st.get('lost_events', 0)}")
        except orjson.JSONDecodeError:
            pass
    click.echo(f"{'kind':<7} {'coin':<8} {'files':>6} {'rows':>10} {'MB':>8}  {'first':<24} "
               f"{'last':<24} {'lost':>6} gaps")
    for r in rows:
        click.echo(f"{r['kind']:<7} {r['coin']:<8} {r['files']:>6} {r['rows']:>10,} "
                   f"{int(r['bytes']) / 1e6:>8.2f}  {r['first']:<24} {r['last']:<24} "  # type: ignore[call-overload]
                   f"{r['lost_events']:>6} {len(r['gaps'])}")  # type: ignore[arg-type]
        for g in r["gaps"]:  # type: ignore[attr-defined]
            click.echo(f"        gap {g['from']} -> {g['to']} ({g['s']} s)")


def file_info(path: Path) -> dict[str, object]:
    """One catalog file or directory: its files' facts and the schema with units."""
    found = files(path)
    schema = pq.read_schema(found[0].path) if found else None
    return {"path": str(path), "files": len(found), "rows": sum(f.rows for f in found),
            "bytes": sum(f.bytes for f in found),
            "kinds": sorted({f.kind for f in found}), "coins": sorted({f.coin for f in found}),
            "first": _iso(min(f.first_ts_ns for f in found)) if found else None,
            "last": _iso(max(f.last_ts_ns for f in found)) if found else None,
            "lost_events": sum(f.lost_events for f in found),
            "columns": {f.name: str(f.type) for f in schema} if schema is not None else {}}


def readable(t: pa.Table) -> pa.Table:
    """Columns CSV can hold: dictionaries decoded, lists as ``a;b;c`` strings."""
    cols = []
    for name in t.column_names:
        c = t.column(name)
        if pa.types.is_dictionary(c.type):
            c = c.cast(pa.string())
        elif pa.types.is_list(c.type):
            c = pa.chunked_array([pa.array([";".join(map(str, v)) if v is not None else None
                                            for v in ch.to_pylist()], pa.string()) for ch in c.chunks]
                                 or [pa.array([], pa.string())])
        cols.append(c)
    return pa.table(cols, names=t.column_names)


def export_table(t: pa.Table, out: str) -> str:
    """Write ``t`` to ``out`` by its extension: ``.csv`` or ``.parquet``."""
    ext = os.path.splitext(out)[1].lower()
    if ext == ".csv":
        pacsv.write_csv(readable(t), out)
    elif ext == ".parquet":
        pq.write_table(t, out, compression="zstd")
    else:
        raise click.BadParameter(f"{out!r}: give a .csv or .parquet file", param_hint="OUT")
    return ext[1:]


KIND_CHOICE = click.Choice(list(KINDS))
GAP_OPTION = click.option("--gap-s", default=DEFAULT_GAP_S, show_default=True, type=click.FloatRange(0),
                          help="Files of one kind and coin further apart than this are a gap.")
