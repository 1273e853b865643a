"""Journal compaction at start: replay time must not grow with the age of the run.

After the journal of the last run is replayed, it is rewritten to the few records
that rebuild the same state (``snap_*`` kinds, replayed by ``journal_replay``):

* ``snap_pos``: per coin the position, entry, realized PnL, fees, volume, fill count;
* ``snap_order``: every order not finished yet, with its state, oid, filled size
  and ladder metadata (finished orders are forgotten anyway);
* ``snap_fills``: the most recent ``KEEP_FILL_KEYS`` fill keys (the venue's
  ``userFills`` snapshot holds at most 2000) and the immediate-fill amounts still
  to skip;
* ``snap_fundings``: the funding de-duplication memory.

The rewrite goes to a temporary file that is fsynced and renamed over the journal;
the previous journal is archived as ``<name>.<k>`` (k = 1, 2, ...; the newest
``KEEP_ARCHIVES`` are kept, for forensics and audits: every fill ever booked is in
exactly one of the archives or the live journal).
"""

from __future__ import annotations

import os

from appliance.gateway.order_state import OrderTracker, TrackedOrder, is_terminal
from appliance.runtime.journal import encode_line

from .fill_booking import FillBooking
from .positions import Positions

KEEP_FILL_KEYS = 20_000
KEEP_ARCHIVES = 20
POS_FIELDS = ("position_sz", "avg_entry_px", "realized_pnl_usd", "fees_usd", "volume_usd", "n_fills",
              "funding_usd")


def snapshot_records(positions: Positions, tracker: OrderTracker, booking: FillBooking) -> list[dict]:
    """The few records that rebuild the state of the three (see the module docstring)."""
    out: list[dict] = []
    for c in range(positions.n_coins):
        p = positions.pos[c]
        out.append({"k": "snap_pos", "coin": c, **{f: p[f].item() for f in POS_FIELDS}})
    for o in tracker.by_cloid.values():
        if is_terminal(o.state):
            continue
        meta = booking.meta.get(o.cloid, (o.level, 0, 0.0, 0.0))
        out.append({"k": "snap_order", "cloid": o.cloid, "coin": o.coin, "is_buy": o.is_buy, "px": o.px,
                    "sz": o.sz, "tif": o.tif, "oid": o.oid, "state": o.state, "filled_sz": o.filled_sz,
                    "level": o.level, "created_ms": o.created_ms, "meta": list(meta)})
    fills = booking.fills
    keys = list(fills._order)[-KEEP_FILL_KEYS:]
    out.append({"k": "snap_fills", "keys": [list(k) for k in keys],
                "imm": [[oid, rem] for oid, rem in fills.immediate_remaining.items()]})
    out.append({"k": "snap_fundings", "recs": booking.fundings.records()})
    return out


def apply(r: dict, positions: Positions, tracker: OrderTracker, booking: FillBooking) -> None:
    """Replay one ``snap_*`` record."""
    k = r["k"]
    if k == "snap_pos":
        p = positions.pos[r["coin"]]
        for f in POS_FIELDS:
            # funding_usd: absent from journals compacted before it existed
            p[f] = r.get(f, 0.0) if f == "funding_usd" else r[f]
        positions.mark(r["coin"], float(p["mark_px"]))
    elif k == "snap_order":
        o = TrackedOrder(r["cloid"], r["coin"], r["is_buy"], r["px"], r["sz"], r["tif"], oid=r["oid"],
                         state=r["state"], filled_sz=r["filled_sz"], level=r["level"],
                         created_ms=r["created_ms"])
        if o.cloid not in tracker.by_cloid:
            tracker.add(o)
            if o.oid:
                tracker.bind_oid(o.cloid, o.oid)
                booking.fills.cloids.bind(o.cloid, o.oid)
        booking.meta[o.cloid] = tuple(r["meta"])
    elif k == "snap_fills":
        f = booking.fills
        for key in r["keys"]:
            t = tuple(key)
            if t not in f._seen:
                f._seen.add(t)
                f._order.append(t)
        for oid, rem in r["imm"]:
            f.immediate_remaining[int(oid)] = float(rem)
    elif k == "snap_fundings":
        booking.fundings.restore(r["recs"])


def archives(path: str | os.PathLike[str]) -> list[tuple[int, str]]:
    """The archived generations of a journal, oldest first: [(k, path)]."""
    path = os.fspath(path)
    d, base = os.path.split(os.path.abspath(path))
    out = []
    for name in os.listdir(d):
        k = name[len(base) + 1:]
        if name.startswith(base + ".") and k.isdigit():
            out.append((int(k), os.path.join(d, name)))
    return sorted(out)


def rewrite(path: str | os.PathLike[str], records: list[dict], keep_previous: bool = True) -> None:
    """Replace the journal at ``path`` by ``records`` (numbered 1..n), atomically."""
    path = os.fspath(path)
    tmp = path + ".compact"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        data = b"".join(encode_line({"n": i, **r}) for i, r in enumerate(records, 1))
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if keep_previous and os.path.exists(path):
        gens = archives(path)
        os.replace(path, f"{path}.{gens[-1][0] + 1 if gens else 1}")
        for _, old in archives(path)[:-KEEP_ARCHIVES]:
            os.unlink(old)
    os.replace(tmp, path)
    dfd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(dfd)  # the renames survive a crash
    finally:
        os.close(dfd)
