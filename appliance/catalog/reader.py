"""Reading the recorder's catalog: which files, what they hold, their rows.

``path`` may be the catalog's root, any directory under it (a kind, a day, a coin) or
one of its files; files are told by their ``mm.kind`` metadata, read from the footer
alone when only their facts are needed (``files``, ``summary``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shm_layout.records import MD_EVENT

from .schema import KINDS, MARKET, market_to_events

# Files of one kind and coin further apart than this are a gap in the recording.
DEFAULT_GAP_S = 120.0


@dataclass(frozen=True)
class CatalogFile:
    path: str
    kind: str
    coin: str
    rows: int
    first_ts_ns: int
    last_ts_ns: int
    lost_events: int
    bytes: int


@dataclass
class Span:
    """One kind and coin of a catalog: its files, rows, time span and gaps."""

    kind: str
    coin: str
    files: int = 0
    rows: int = 0
    bytes: int = 0
    lost_events: int = 0
    first_ts_ns: int = 0
    last_ts_ns: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (from, to) ns


def is_catalog(path: str | os.PathLike[str]) -> bool:
    """True for a catalog directory (or one under it) or a catalog file."""
    p = Path(path)
    if p.is_file():
        return p.suffix == ".parquet" and _file_info(p) is not None
    if not p.is_dir():
        return False
    if any((p / k).is_dir() for k in KINDS):
        return True
    return any(_file_info(f) is not None for f in _first(p.rglob("*.parquet"), 1))


def _first(it: Iterable[Path], n: int) -> list[Path]:
    out = []
    for x in it:
        out.append(x)
        if len(out) >= n:
            break
    return out


def _file_info(p: Path) -> CatalogFile | None:
    try:
        md = pq.read_metadata(p)
    except (OSError, pa.ArrowException):
        return None
    kv = {k.decode(): v.decode() for k, v in (md.metadata or {}).items()}
    if kv.get("mm.kind") not in KINDS:
        return None
    return CatalogFile(str(p), kv["mm.kind"], kv.get("mm.coin", ""), md.num_rows,
                       int(kv.get("mm.first_ts_ns", 0)), int(kv.get("mm.last_ts_ns", 0)),
                       int(kv.get("mm.lost_events", 0)), p.stat().st_size)


def files(path: str | os.PathLike[str], kind: str | None = None, coin: str | None = None,
          since_ns: int | None = None, until_ns: int | None = None) -> list[CatalogFile]:
    """The catalog files under ``path`` (or ``path`` itself), oldest first, of ``kind``
    and ``coin`` when given, overlapping [since, until] when given."""
    p = Path(path)
    cands = [p] if p.is_file() else sorted(p.rglob("*.parquet"))
    out = []
    for f in cands:
        info = _file_info(f)
        if info is None or (kind and info.kind != kind) or (coin and info.coin != coin):
            continue
        if since_ns is not None and info.last_ts_ns < since_ns:
            continue
        if until_ns is not None and info.first_ts_ns > until_ns:
            continue
        out.append(info)
    out.sort(key=lambda i: (i.first_ts_ns, i.path))
    return out


def summary(path: str | os.PathLike[str], gap_s: float = DEFAULT_GAP_S) -> list[Span]:
    """One ``Span`` per (kind, coin): files, rows, bytes, first and last time, and, for
    market data, the gaps (consecutive files more than ``gap_s`` apart; our fills and
    orders have none: an hour without a fill is not a hole in the recording)."""
    spans: dict[tuple[str, str], Span] = {}
    gap_ns = int(gap_s * 1e9)
    for f in files(path):
        s = spans.setdefault((f.kind, f.coin), Span(f.kind, f.coin, first_ts_ns=f.first_ts_ns))
        if f.kind == MARKET and s.files and f.first_ts_ns - s.last_ts_ns > gap_ns:
            s.gaps.append((s.last_ts_ns, f.first_ts_ns))
        s.files += 1
        s.rows += f.rows
        s.bytes += f.bytes
        s.lost_events += f.lost_events
        s.last_ts_ns = max(s.last_ts_ns, f.last_ts_ns)
    return sorted(spans.values(), key=lambda s: (s.kind, s.coin))


def read_table(path: str | os.PathLike[str], kind: str, coins: Iterable[str] | None = None,
               since_ns: int | None = None, until_ns: int | None = None,
               sort_by: str = "ts") -> pa.Table:
    """Every row of ``kind`` under ``path`` (of ``coins`` and within [since, until]
    when given), sorted by ``sort_by``; an empty table when there is none."""
    wanted = None if coins is None else set(coins)
    tables = []
    for f in files(path, kind, since_ns=since_ns, until_ns=until_ns):
        if wanted is not None and f.coin not in wanted:
            continue
        tables.append(pq.read_table(f.path))
    if not tables:
        return pa.table({})
    t = pa.concat_tables(tables, promote_options="permissive")
    if since_ns is not None:
        t = t.filter(pc.greater_equal(t.column("ts").cast(pa.int64()), since_ns))
    if until_ns is not None:
        t = t.filter(pc.less_equal(t.column("ts").cast(pa.int64()), until_ns))
    # stable: rows of one time keep the order they were recorded in
    return t.take(pc.sort_indices(t, [(sort_by, "ascending")]))


# the columns that tell one market event from another (a ring event recorded twice
# by a restarted recorder has them all equal)
EVENT_KEY = ["recv_ts", "ts", "coin", "event", "trade_id", "px", "sz", "flags"]


def dedupe(t: pa.Table, keys: list[str]) -> pa.Table:
    """``t`` without repeated rows of ``keys``; the first of each kept, in order."""
    if t.num_rows == 0:
        return t
    g = (t.append_column("_i", pa.array(np.arange(t.num_rows)))
         .group_by(keys, use_threads=False).aggregate([("_i", "min")]))
    first = g.column("_i_min")
    if len(first) == t.num_rows:
        return t
    return t.take(pc.take(first, pc.sort_indices(first)))


def market_events(path: str | os.PathLike[str], coins: tuple[str, ...]) -> np.ndarray:
    """The recorded market events of ``coins`` as MD_EVENT records, in receive order
    (the order the feed published them), each once."""
    parts = [ev for ev, _ in iter_market_events(path, coins)]
    return np.concatenate(parts) if parts else np.zeros(0, MD_EVENT)


def iter_market_events(path: str | os.PathLike[str],
                       coins: tuple[str, ...]) -> Iterator[tuple[np.ndarray, int]]:
    """``market_events`` a group of files at a time (files whose time spans overlap:
    one flush's files of every coin), so memory holds one group, not the catalog.
    Yields (events of ``coins``, rows read)."""
    wanted = set(coins)
    group: list[CatalogFile] = []
    end_ns = -1
    for f in files(path, MARKET):
        if f.coin not in wanted:
            yield np.zeros(0, MD_EVENT), f.rows
            continue
        if group and f.first_ts_ns > end_ns:
            yield _group_events(group, coins)
            group = []
        group.append(f)
        end_ns = max(end_ns, f.last_ts_ns) if len(group) > 1 else f.last_ts_ns
    if group:
        yield _group_events(group, coins)


def _group_events(group: list[CatalogFile], coins: tuple[str, ...]) -> tuple[np.ndarray, int]:
    t = pa.concat_tables([pq.read_table(f.path) for f in group], promote_options="permissive")
    rows = t.num_rows
    t = dedupe(t, EVENT_KEY)
    t = t.take(pc.sort_indices(t, [("recv_ts", "ascending")]))
    return market_to_events(t, coins), rows


def coins_of(path: str | os.PathLike[str], kind: str = MARKET) -> list[str]:
    """The coins recorded under ``path``, in order of first appearance."""
    out: list[str] = []
    for f in files(path, kind):
        if f.coin not in out:
            out.append(f.coin)
    return out
