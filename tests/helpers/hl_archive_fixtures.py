"""Hyperliquid archive files written as documented, from real data: the l2Book snapshots
and trades of the real websocket capture ``btc_ws_20250126.gz``, and the real funding
history of ``info/funding_history_None.json`` (tests/feed/test_hl_archive.py,
tests/cli/test_backtest.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from sources_helpers import DATA, HL_BTC, _frame, _lines, _need

from appliance.feed.sources.hl_archive_io import ASSET_CTXS_COLUMNS

FUNDING = DATA / "hyperliquid" / "info" / "funding_history_None.json"


def _iso_ns(ns: int) -> str:
    """The archive's outer time: naive ISO with nanoseconds (UTC)."""
    s, frac = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(s, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}"


def _ws() -> list[tuple[int, dict]]:
    return [(int(ln.split(b" ", 1)[0]), _frame(ln)) for ln in _lines(_need(HL_BTC)) if ln.strip()]


def _real_trades() -> list[dict]:
    """Every distinct trade of the capture (tid order as received)."""
    out: dict[int, dict] = {}
    for _, f in _ws():
        if f["channel"] == "trades":
            for t in f["data"]:
                out.setdefault(t["tid"], t)
    return list(out.values())


def _l2book_lines() -> list[bytes]:
    return [orjson.dumps({"time": _iso_ns(recv), "ver_num": 1, "raw": f})
            for recv, f in _ws() if f["channel"] == "l2Book"]


def _node_trade_lines() -> list[bytes]:
    out = []
    for t in _real_trades():
        buyer, seller = t["users"]
        info = [{"user": u, "start_pos": "0.0", "oid": 1000 + k, "twap_id": None, "cloid": None}
                for k, u in enumerate((buyer, seller))]
        out.append(orjson.dumps({"coin": t["coin"], "side": t["side"],
                                 "time": _iso_ns(t["time"] * 1_000_000), "px": t["px"],
                                 "sz": t["sz"], "hash": t["hash"], "trade_dir_override": "Na",
                                 "side_info": info}))
    return out


def _fills(t: dict) -> list[list]:
    """The two legs of a trade as node_fills writes them: [user, API fill]."""
    buyer, seller = t["users"]
    legs = []
    for user, side in ((buyer, "B"), (seller, "A")):
        legs.append([user, {"coin": t["coin"], "px": t["px"], "sz": t["sz"], "side": side,
                            "time": t["time"], "startPosition": "0.0", "dir": "Open Long",
                            "closedPnl": "0.0", "hash": t["hash"], "oid": 7, "crossed": side == t["side"],
                            "fee": "0.0", "tid": t["tid"], "feeToken": "USDC", "twapId": None}])
    return legs


def _node_fill_lines() -> list[bytes]:
    return [orjson.dumps(leg) for t in _real_trades() for leg in _fills(t)]


def _block_lines() -> list[bytes]:
    by_time: dict[int, list] = {}
    for t in _real_trades():
        by_time.setdefault(t["time"], []).extend(_fills(t))
    return [orjson.dumps({"local_time": _iso_ns(ms * 1_000_000 + 250_000_000),
                          "block_time": _iso_ns(ms * 1_000_000), "block_number": 500_000_000 + k,
                          "events": evs})
            for k, (ms, evs) in enumerate(sorted(by_time.items()))]


def _ctx_lines() -> list[bytes]:
    rows = orjson.loads(_need(FUNDING).read_bytes())
    head = ",".join(ASSET_CTXS_COLUMNS).encode()
    out = [head]
    for k, r in enumerate(rows[:50]):
        t = datetime.fromtimestamp(r["time"] // 1000, UTC).strftime("%Y-%m-%dT%H:%M:00Z")
        mark = 27000.0 + k
        for coin, oi in (("BTC", 6000.5), ("SOL", 1e6)):
            out.append(f"{t},{coin},{r['fundingRate']},{oi},26900.0,1.5e8,{r['premium']},"
                       f"{mark - 2},{mark},{mark + 0.5},{mark - 1},{mark + 1}".encode())
    return out
