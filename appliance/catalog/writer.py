"""The recorder's writer: buffered ring records -> Parquet files of the catalog.

Layout (plain directories, so that DuckDB's ``'catalog/**/*.parquet'`` and pandas read
every file as it is, each self-contained with its ``coin`` column)::

    <root>/<kind>/<YYYY-MM-DD>/<COIN>/<kind>-<first ts ns>-<pid>-<n>.parquet

``kind`` is ``market``, ``fills``, ``orders`` or ``fundings`` (``schema.py``); the date is the UTC
day of the rows' ``ts``. Each ``flush`` writes one file per (kind, day, coin) with
rows, zstd-compressed, with the key-value metadata ``mm.kind``, ``mm.coin``,
``mm.first_ts_ns``, ``mm.last_ts_ns`` and ``mm.lost_events`` (ring events the
recorder was lapped over since the previous file). A file is written under a
``.tmp`` name and renamed, so a reader never sees half a file.

Bounded on disk: files written more than ``retention_days`` ago are deleted, then the
oldest files while the catalog holds more than ``max_bytes``; and nothing is written while
the disk has less than ``min_free_bytes`` free. A write that fails (a full disk,
permissions) drops that flush's rows, counts them, and is said in ``status`` and the
log; the caller decides what it means (the recorder keeps the appliance trading).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .schema import (
    FILLS,
    FUNDINGS,
    KINDS,
    MARKET,
    ORDERS,
    fills_table,
    fundings_table,
    market_table,
    orders_table,
)

log = logging.getLogger(__name__)

_NS_PER_DAY = 86_400 * 1_000_000_000
_ERROR_LOG_EVERY_S = 60.0
_BOUNDS_EVERY_S = 600.0  # retention and size are checked this often (a walk of the tree)
_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()


@dataclass
class WriterStatus:
    """What the writer did: read by the recorder's status file and ``mmctl data ls``."""

    ok: bool = True
    last_error: str = ""
    last_error_unix_s: float = 0.0
    files_written: int = 0
    bytes_written: int = 0
    rows_written: int = 0
    rows_dropped: int = 0  # rows of flushes that could not be written
    lost_events: int = 0  # ring events lapped before the recorder read them
    files_deleted: int = 0  # by retention

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class CatalogWriter:
    def __init__(self, root: str | os.PathLike[str], coins: tuple[str, ...], *,
                 retention_days: int = 30, max_bytes: int = 20_000_000_000,
                 min_free_bytes: int = 1_000_000_000) -> None:
        self.root = Path(root)
        self.coins = tuple(coins)
        self.retention_days = retention_days
        self.max_bytes = max_bytes
        self.min_free_bytes = min_free_bytes
        self.status = WriterStatus()
        self._pending: dict[str, list[np.ndarray]] = {k: [] for k in KINDS}
        self._lost = {k: 0 for k in KINDS}
        self._mono_to_wall_ns = time.time_ns() - time.monotonic_ns()
        self._n = 0
        self._last_error_log = -_ERROR_LOG_EVERY_S
        self._next_bounds_s = 0.0
        self.root.mkdir(parents=True, exist_ok=True)

    # --- buffering ---------------------------------------------------------------------

    def add(self, kind: str, records: np.ndarray, lost: int = 0) -> None:
        """Buffer ``records`` of ring ``kind`` (a copy is kept), and ``lost`` events."""
        if len(records):
            self._pending[kind].append(records.copy())
        self._lost[kind] += lost
        self.status.lost_events += lost

    def pending_rows(self) -> int:
        return sum(len(a) for parts in self._pending.values() for a in parts)

    # --- writing -----------------------------------------------------------------------

    def flush(self) -> int:
        """Write what is buffered; returns the files written. Never raises for a disk
        error (it is counted and said in ``status``)."""
        written = 0
        for kind in KINDS:
            parts, self._pending[kind] = self._pending[kind], []
            if not parts:
                continue
            recs = np.concatenate(parts)
            lost, self._lost[kind] = self._lost[kind], 0
            try:
                self._check_room()
                written += self._write_kind(kind, recs, lost)
            except (OSError, pa.ArrowException) as exc:
                self._failed(kind, len(recs), exc)
        if written:
            self._ok()
            if time.monotonic() >= self._next_bounds_s:
                self._next_bounds_s = time.monotonic() + _BOUNDS_EVERY_S
                self._enforce_bounds()
        return written

    def _write_kind(self, kind: str, recs: np.ndarray, lost: int) -> int:
        table = self._table(kind, recs)
        ts = table.column("ts").cast(pa.int64()).to_numpy()
        day = ts // _NS_PER_DAY
        coin = table.column("coin").to_numpy(zero_copy_only=False).astype(str)
        n_files = 0
        for d in np.unique(day):
            for c in np.unique(coin[day == d]):
                sel = (day == d) & (coin == c)
                part = table.filter(pa.array(sel))
                part_ts = ts[sel]
                self._write_file(kind, str(date.fromordinal(_EPOCH_ORDINAL + int(d))), str(c), part,
                                 int(part_ts.min()), int(part_ts.max()), lost if n_files == 0 else 0)
                n_files += 1
        return n_files

    def _table(self, kind: str, recs: np.ndarray) -> pa.Table:
        if kind == MARKET:
            return market_table(recs, self.coins)
        if kind == FILLS:
            return fills_table(recs, self.coins)
        if kind == ORDERS:
            return orders_table(recs, self.coins, self._mono_to_wall_ns)
        if kind == FUNDINGS:
            return fundings_table(recs, self.coins)
        raise ValueError(f"unknown catalog kind {kind!r}")

    def _write_file(self, kind: str, day: str, coin: str, table: pa.Table, first: int, last: int,
                    lost: int) -> None:
        d = self.root / kind / day / coin
        d.mkdir(parents=True, exist_ok=True)
        self._n += 1
        path = d / f"{kind}-{first}-{os.getpid()}-{self._n}.parquet"
        meta = {"mm.kind": kind, "mm.coin": coin, "mm.first_ts_ns": str(first),
                "mm.last_ts_ns": str(last), "mm.lost_events": str(lost)}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
        tmp = path.with_suffix(".parquet.tmp")
        try:
            pq.write_table(table, tmp, compression="zstd")
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.status.files_written += 1
        self.status.bytes_written += path.stat().st_size
        self.status.rows_written += table.num_rows

    # --- bounds and errors -------------------------------------------------------------

    def _check_room(self) -> None:
        free = shutil.disk_usage(self.root).free
        if free < self.min_free_bytes:
            raise OSError(f"only {free / 1e6:.0f} MB free on the catalog's disk "
                          f"(recorder.min_free_bytes = {self.min_free_bytes / 1e6:.0f} MB)")

    def _failed(self, kind: str, rows: int, exc: BaseException) -> None:
        st = self.status
        st.ok = False
        st.last_error = f"{kind}: {type(exc).__name__}: {exc}"
        st.last_error_unix_s = time.time()
        st.rows_dropped += rows
        now = time.monotonic()
        if now - self._last_error_log >= _ERROR_LOG_EVERY_S:
            self._last_error_log = now
            log.error("recorder: %d %s rows NOT recorded (%s); trading goes on, the catalog "
                      "has a hole (%d rows dropped so far)", rows, kind, st.last_error, st.rows_dropped)

    def _ok(self) -> None:
        if not self.status.ok:
            log.warning("recorder: writing again after: %s", self.status.last_error)
        self.status.ok = True

    def _enforce_bounds(self) -> None:
        """Delete files written more than ``retention_days`` ago (by their mtime: the
        day directories hold the data's own dates, which a replayed market puts in the
        past), then the oldest files while the catalog is larger than ``max_bytes``."""
        cutoff_s = time.time() - self.retention_days * 86_400
        files = []
        for p in self.root.rglob("*.parquet"):
            st = p.stat()
            if st.st_mtime < cutoff_s:
                p.unlink(missing_ok=True)
                self.status.files_deleted += 1
            else:
                files.append((st.st_mtime, st.st_size, p))
        files.sort()
        total = sum(size for _, size, _ in files)
        for _, size, p in files:
            if total <= self.max_bytes:
                break
            total -= size
            p.unlink(missing_ok=True)
            self.status.files_deleted += 1
        for d in sorted(self.root.rglob("*"), reverse=True):  # the emptied directories
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
