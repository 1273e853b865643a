"""Normalized market events stored as Parquet, and replayed as a MarketSource.

One row per MD_EVENT, one column per field (padding left out); the 20-level book
arrays are ``fixed_size_list<20>`` columns. The schema metadata (keys ``mm.*``)
holds the coin list (the ``coin`` column indexes it), the source spec, a hash of
the MD_EVENT layout, the shared-memory layout hash at write time, and the
writer's stats. Reading back gives records byte-identical to those written
(padding is zero in every source's records and in the read-back ones).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from shm_layout import LAYOUT_HASH
from shm_layout.constants import BOOK_DEPTH
from shm_layout.records import MD_COLUMNS, MD_EVENT, md_field

from ..events import (
    DEFAULT_CHUNK_EVENTS,
    SourceStats,
    check_max_events,
    concat_events,
    rechunk,
    take_events,
)
from .base import check_coins

FORMAT_VERSION = "1"
PARQUET_MAGIC = b"PAR1"
# Rows per Parquet row group (and per read batch).
ROW_GROUP_ROWS = 65_536

_FIELDS = MD_COLUMNS  # the header fields, then the level fields (bid_px ... ask_n)
_ARRAY_FIELDS = tuple(n for n in _FIELDS if md_field(np.zeros(1, MD_EVENT), n).ndim == 2)
# Files written before the levels were interleaved (issue 18) have the same columns
# (names, types, order); only the in-memory layout they were hashed from differs.
_PRE_INTERLEAVE_HASH = "55b099170569971b"


def md_event_hash() -> str:
    """Hash of the MD_EVENT layout (names, formats, offsets, size)."""
    desc = [(n, MD_EVENT.fields[n][0].str, MD_EVENT.fields[n][0].shape, MD_EVENT.fields[n][1])
            for n in MD_EVENT.names]
    raw = orjson.dumps({"itemsize": MD_EVENT.itemsize, "fields": desc})
    return hashlib.sha256(raw).hexdigest()[:16]


def _arrow_type(name: str) -> pa.DataType:
    dt = md_field(np.zeros(1, MD_EVENT), name).dtype
    return pa.list_(pa.from_numpy_dtype(dt), BOOK_DEPTH) if name in _ARRAY_FIELDS else (
        pa.from_numpy_dtype(dt))


SCHEMA = pa.schema([pa.field(n, _arrow_type(n), nullable=False) for n in _FIELDS])


def is_parquet(path: str | os.PathLike[str]) -> bool:
    """True for a ``.parquet`` name or a file that starts with the Parquet magic."""
    if os.fspath(path).lower().endswith(".parquet"):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def as_md_event(ev: np.ndarray) -> np.ndarray:
    """``ev`` as MD_EVENT records.

    numpy 2's ``np.concatenate`` of padded records drops the trailing padding
    (880-byte items instead of 896) unless given ``dtype=MD_EVENT``; such arrays,
    with the same fields at the same offsets, are copied back into the layout.
    """
    if ev.dtype == MD_EVENT:
        return ev
    names = ev.dtype.names or ()
    same = names == MD_EVENT.names and all(
        ev.dtype.fields[n] == MD_EVENT.fields[n] for n in names
    )
    if not same:
        raise ValueError(f"expected MD_EVENT records, got dtype {ev.dtype}")
    out = np.zeros(len(ev), dtype=MD_EVENT)
    out[...] = ev  # same fields at the same offsets: numpy copies field by field
    return out


def to_table(ev: np.ndarray) -> pa.Table:
    """MD_EVENT records as an Arrow table of SCHEMA."""
    ev = as_md_event(ev)
    cols = []
    for n in _FIELDS:
        col = np.ascontiguousarray(md_field(ev, n))
        if n in _ARRAY_FIELDS:
            cols.append(pa.FixedSizeListArray.from_arrays(pa.array(col.reshape(-1)), BOOK_DEPTH))
        else:
            cols.append(pa.array(col))
    return pa.Table.from_arrays(cols, schema=SCHEMA)


def from_table(table: pa.Table | pa.RecordBatch) -> np.ndarray:
    """Arrow columns of SCHEMA back into MD_EVENT records (padding zero)."""
    n = table.num_rows
    ev = np.zeros(n, dtype=MD_EVENT)
    for name in _FIELDS:
        col = table.column(name)
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        if name in _ARRAY_FIELDS:
            md_field(ev, name)[:] = col.flatten().to_numpy(zero_copy_only=False).reshape(n, BOOK_DEPTH)
        else:
            ev[name] = col.to_numpy(zero_copy_only=False)
    return ev


class ParquetEventWriter:
    """Append MD_EVENT chunks to a Parquet file; ``close`` writes the metadata."""

    def __init__(self, path: str | os.PathLike[str], coins: Sequence[str], source: str) -> None:
        self.path = os.fspath(path)
        self.coins = check_coins(coins)
        self.source = source
        self.events = 0
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self.first_recv_ts_ns = -1
        self.last_recv_ts_ns = -1
        self._tmp = self.path + ".part"
        # Dictionary pages make the level lists 3x slower to read and buy nothing here.
        self._writer = pq.ParquetWriter(self._tmp, SCHEMA, compression="zstd", use_dictionary=False)

    def write(self, chunk: np.ndarray) -> None:
        if len(chunk) == 0:
            return
        chunk = as_md_event(chunk)
        if self.first_recv_ts_ns < 0:
            self.first_recv_ts_ns = int(chunk["recv_ts_ns"][0])
        self.last_recv_ts_ns = int(chunk["recv_ts_ns"][-1])
        self._pending.append(chunk)
        self._n_pending += len(chunk)
        self.events += len(chunk)
        if self._n_pending >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._n_pending:
            ev = concat_events(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._writer.write_table(to_table(ev), row_group_size=ROW_GROUP_ROWS)
        self._pending = []
        self._n_pending = 0

    def close(self, stats: dict[str, object] | None = None) -> None:
        """Finish the file (written to ``PATH.part`` and renamed, so never half there)."""
        self._flush()
        meta = {
            "mm.format_version": FORMAT_VERSION,
            "mm.coins": orjson.dumps(list(self.coins)),
            "mm.source": self.source,
            "mm.md_event_hash": md_event_hash(),
            "mm.layout_hash": f"{LAYOUT_HASH:#018x}",
            "mm.events": str(self.events),
            "mm.first_recv_ts_ns": str(self.first_recv_ts_ns),
            "mm.last_recv_ts_ns": str(self.last_recv_ts_ns),
            "mm.stats": orjson.dumps(stats or {}),
        }
        self._writer.add_key_value_metadata(meta)
        self._writer.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            if os.path.exists(self._tmp):
                os.unlink(self._tmp)


def write_events(
    path: str | os.PathLike[str],
    chunks: Iterable[np.ndarray],
    coins: Sequence[str],
    source: str,
    stats: SourceStats | None = None,
) -> int:
    """Write every chunk to ``path``; returns the event count. ``stats`` is read at the end."""
    w = ParquetEventWriter(path, coins, source)
    try:
        for c in chunks:
            w.write(c)
    except BaseException:
        w.abort()
        raise
    w.close(stats.to_dict() if stats is not None else None)
    return w.events


def read_metadata(path: str | os.PathLike[str]) -> dict[str, object]:
    """The ``mm.*`` metadata of a stored file, decoded."""
    try:
        raw = pq.read_metadata(path).metadata or {}
    except (OSError, pa.ArrowInvalid) as exc:
        raise ValueError(f"cannot read Parquet file {os.fspath(path)!r}: {exc}") from exc
    meta = {k.decode(): v.decode() for k, v in raw.items() if k.startswith(b"mm.")}
    if "mm.coins" not in meta:
        raise ValueError(f"{os.fspath(path)!r} is Parquet but not a stored MD_EVENT file (no mm.coins)")
    out: dict[str, object] = dict(meta)
    out["mm.coins"] = tuple(orjson.loads(meta["mm.coins"]))
    out["mm.stats"] = orjson.loads(meta.get("mm.stats", "{}"))
    return out


class ParquetReplaySource:
    """A finite MarketSource over a stored Parquet file.

    ``coins`` selects and orders the coins: events of other coins are skipped and
    the ``coin`` index is remapped to the position in ``coins``.
    """

    def __init__(self, path: str | os.PathLike[str], coins: Sequence[str]) -> None:
        self.path = os.fspath(path)
        self.coins = check_coins(coins)
        self.meta = read_metadata(self.path)
        found = self.meta.get("mm.md_event_hash")
        if found not in (md_event_hash(), _PRE_INTERLEAVE_HASH):
            raise ValueError(
                f"{self.path!r} was written with another MD_EVENT layout ({found}, this build "
                f"{md_event_hash()}); convert the capture again"
            )
        self.file_coins: tuple[str, ...] = self.meta["mm.coins"]  # type: ignore[assignment]
        self.name = f"replay:parquet:{os.path.basename(self.path)}"
        self.stats = SourceStats()
        remap = np.full(256, 255, dtype=np.uint8)
        for i, c in enumerate(self.file_coins):
            if c in self.coins:
                remap[i] = self.coins.index(c)
        self._remap = remap
        self._identity = self.file_coins[: len(self.coins)] == self.coins and len(
            self.file_coins
        ) == len(self.coins)
        if not any(c in self.file_coins for c in self.coins):
            raise ValueError(
                f"none of the coins {list(self.coins)} is in {self.path!r} (it holds "
                f"{list(self.file_coins)})"
            )

    def chunks(self, max_events: int = DEFAULT_CHUNK_EVENTS) -> Iterator[np.ndarray]:
        max_events = check_max_events(max_events)
        st = self.stats
        st.reset()
        pf = pq.ParquetFile(self.path)
        yield from rechunk(self._row_groups(pf, st), max_events, st)

    def _row_groups(self, pf: pq.ParquetFile, st: SourceStats) -> Iterator[np.ndarray]:
        for rg in range(pf.num_row_groups):
            ev = from_table(pf.read_row_group(rg, columns=list(_FIELDS)))
            st.lines += len(ev)
            if not self._identity:
                ev["coin"] = self._remap[ev["coin"]]
                keep = ev["coin"] != 255
                st.skipped += int((~keep).sum())
                ev = take_events(ev, keep)
            yield ev
