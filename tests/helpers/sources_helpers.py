"""Paths and helpers shared by the market-source tests."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import orjson
import pytest

from appliance.feed.events import concat_events
from appliance.feed.sources.base import MarketSource
from shm_layout.constants import EV_BBO, EV_BOOK, EV_TRADE
from shm_layout.records import MD_EVENT

REPO_ROOT = Path(__file__).resolve().parents[2]
# ../shared/data beside the checkout (a worktree one level deeper finds it too)
DATA = next((p for p in (REPO_ROOT / ".." / "shared" / "data", REPO_ROOT / ".." / ".." / "shared" / "data")
             if p.is_dir()), REPO_ROOT / ".." / "shared" / "data")
HL_BTC = DATA / "hyperliquid" / "btc_ws_20250126.gz"
BN_BTC = DATA / "binance_usdm" / "btcusdt_20240808.gz"
BN_ETH = DATA / "binance_usdm" / "ethusdt_20240808.gz"
CM_BTC = DATA / "binance_cm" / "btcusd_perp_20240808.gz"
CM_ETH = DATA / "binance_cm" / "ethusd_perp_20240808.gz"
SPOT_BTC = DATA / "binance_spot" / "btcusdt_20240808.gz"
SPOT_ETH = DATA / "binance_spot" / "ethusdt_20240808.gz"
# every Binance capture: (path, market, coin, lowest and highest plausible price)
BINANCE_CAPTURES = (
    (BN_BTC, "binance_usdm", "BTC", 50_000.0, 150_000.0),
    (BN_ETH, "binance_usdm", "ETH", 1_000.0, 10_000.0),
    (CM_BTC, "binance_cm", "BTC", 50_000.0, 150_000.0),
    (CM_ETH, "binance_cm", "ETH", 1_000.0, 10_000.0),
    (SPOT_BTC, "binance_spot", "BTC", 50_000.0, 150_000.0),
    (SPOT_ETH, "binance_spot", "ETH", 1_000.0, 10_000.0),
)

COINS = ("BTC", "ETH")


def _need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"recorded market data missing: {path} (see ../shared/data/README.md)")
    return path


def _all(src: MarketSource, max_events: int = 1024) -> np.ndarray:
    chunks = list(src.chunks(max_events))
    for c in chunks:
        assert c.dtype == MD_EVENT
        assert 0 < len(c) <= max_events
    return concat_events(chunks)


def _lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as f:
        return [ln.rstrip(b"\n") for ln in f]


def _count_lines(path: Path) -> int:
    """Non-blank lines, counted without any replay source."""
    return sum(1 for ln in _lines(path) if ln.strip())


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _frame(line: bytes) -> dict:
    return orjson.loads(line.split(b" ", 1)[1])


def _assert_sane_market(ev: np.ndarray, lo_px: float, hi_px: float) -> None:
    assert len(ev) > 0
    assert (np.diff(ev["recv_ts_ns"]) >= 0).all(), "recv time must not go backwards"
    assert (ev["seq"] == 0).all() and (ev["pub_mono_ns"] == 0).all()
    books = ev[ev["kind"] == EV_BOOK]
    trades = ev[ev["kind"] == EV_TRADE]
    bbos = ev[ev["kind"] == EV_BBO]
    assert len(books) > 0 and len(trades) > 0
    for b in (books, bbos):
        if len(b):
            assert (b["lv"]["bid_px"][:, 0] < b["lv"]["ask_px"][:, 0]).all(), "crossed book"
            assert ((b["lv"]["bid_px"][:, 0] > lo_px) & (b["lv"]["ask_px"][:, 0] < hi_px)).all()
    assert (books["n_bids"] == 20).all() and (books["n_asks"] == 20).all()
    # Levels are best first and strictly ordered.
    assert (np.diff(books["lv"]["bid_px"], axis=1) < 0).all()
    assert (np.diff(books["lv"]["ask_px"], axis=1) > 0).all()
    assert (books["lv"]["bid_sz"] > 0).all() and (books["lv"]["ask_sz"] > 0).all()
    assert set(np.unique(trades["side"]).tolist()) <= {-1, 1}
    assert ((trades["px"] > lo_px) & (trades["px"] < hi_px)).all()
    assert (trades["sz"] > 0).all()
    if len(bbos):
        assert (bbos["n_bids"] == 1).all() and (bbos["n_asks"] == 1).all()
        assert (bbos["lv"]["bid_px"][:, 1:] == 0).all()


def _hl_book(recv: int, t_ms: int, coin: str = "BTC") -> bytes:
    lv = [
        [{"px": str(100 - i), "sz": "1.0", "n": 1} for i in range(20)],
        [{"px": str(101 + i), "sz": "2.0", "n": 2} for i in range(20)],
    ]
    frame = {"channel": "l2Book", "data": {"coin": coin, "levels": lv, "time": t_ms}}
    return str(recv).encode() + b" " + orjson.dumps(frame)


def _hl_trades(recv: int, trades: list[tuple[int, int, str]], coin: str = "BTC") -> bytes:
    data = [
        {
            "coin": coin,
            "side": side,
            "px": "100.5",
            "sz": "0.1",
            "time": t,
            "tid": tid,
            "hash": "0x0",
            "users": ["a", "b"],
        }
        for t, tid, side in trades
    ]
    return str(recv).encode() + b" " + orjson.dumps({"channel": "trades", "data": data})
