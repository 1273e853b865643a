"""A small real websocket server on 127.0.0.1 (aiohttp, own thread) that speaks
enough of Hyperliquid's protocol to test the client: the hello text, a
subscriptionResponse per subscribe, pong per ping (unless told not to), and a
scripted list of frames per connection, then hold, go silent or drop."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pytest
from aiohttp import WSMsgType, web

from appliance.feed.hyperliquid_ws.client import HlWsClient, WsClientConfig
from shm_layout.records import MD_EVENT, USER_EVENT

# ../shared/data beside the checkout (a worktree one level deeper finds it too)
DATA = next((p for p in (Path(__file__).resolve().parents[2].parent / "shared" / "data",
                         Path(__file__).resolve().parents[2].parent.parent / "shared" / "data")
             if p.is_dir()), Path(__file__).resolve().parents[2].parent / "shared" / "data")
HL_BTC = DATA / "hyperliquid" / "btc_ws_20250126.gz"


def need_capture() -> Path:
    if not HL_BTC.is_file():
        pytest.skip(f"recorded market data missing: {HL_BTC}")
    return HL_BTC


def capture_frames(path: Path) -> list[bytes]:
    """The frame JSON of each capture line (the receive time dropped)."""
    with gzip.open(path, "rb") as f:
        return [ln.strip().partition(b" ")[2] for ln in f if ln.strip()]


@dataclass
class Script:
    """What the server does on one connection."""

    frames: list[bytes | str] = field(default_factory=list)  # sent after the subscriptions
    wait_subs: int = 0  # subscriptions to receive before sending frames
    then: str = "hold"  # "hold" | "drop" | "silent" (no pong either)
    answer_pings: bool = True
    frame_gap_s: float = 0.0


@dataclass
class Conn:
    subs: list[dict] = field(default_factory=list)
    pings: int = 0
    closed_by_server: bool = False


class ReplayServer:
    """``scripts(conn_no) -> Script`` decides each connection (conn_no from 1)."""

    def __init__(self, scripts) -> None:
        self.scripts = scripts
        self.conns: list[Conn] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    # --- lifecycle --------------------------------------------------------------

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        assert self._ready.wait(10), "server did not start"
        return self

    def __exit__(self, *exc) -> None:
        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/ws", self._handler)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    # --- one connection -------------------------------------------------------------

    async def _handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = Conn()
        self.conns.append(conn)
        script: Script = self.scripts(len(self.conns))
        await ws.send_str("Websocket connection established.")
        subs_done = asyncio.Event()
        if script.wait_subs <= 0:
            subs_done.set()

        async def reader() -> None:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                m = orjson.loads(msg.data)
                if m.get("method") == "subscribe":
                    conn.subs.append(m["subscription"])
                    await ws.send_bytes(orjson.dumps(
                        {"channel": "subscriptionResponse", "data": m}))
                    if len(conn.subs) >= script.wait_subs:
                        subs_done.set()
                elif m.get("method") == "ping":
                    conn.pings += 1
                    if script.answer_pings and script.then != "silent":
                        await ws.send_str('{"channel":"pong"}')

        rd = asyncio.ensure_future(reader())
        try:
            await asyncio.wait_for(subs_done.wait(), 10)
            for fr in script.frames:
                if isinstance(fr, str):
                    await ws.send_str(fr)
                else:
                    await ws.send_str(fr.decode())  # Hyperliquid sends text frames
                if script.frame_gap_s:
                    await asyncio.sleep(script.frame_gap_s)
            if script.then == "drop":
                conn.closed_by_server = True
                await ws.close()
            else:
                await rd
        finally:
            rd.cancel()
        return ws


class Collector:
    """Sinks that copy what the client publishes."""

    def __init__(self) -> None:
        self.md: list[np.ndarray] = []
        self.user: list[np.ndarray] = []
        self.states: list[str] = []
        self.lock = threading.Lock()

    def md_sink(self, buf: np.ndarray, n: int) -> None:
        with self.lock:
            self.md.append(buf[:n].copy())

    def user_sink(self, buf: np.ndarray, n: int) -> None:
        with self.lock:
            self.user.append(buf[:n].copy())

    def on_state(self, state: str, why: str) -> None:
        self.states.append(state)

    def md_events(self) -> np.ndarray:
        with self.lock:
            return np.concatenate(self.md) if self.md else np.zeros(0, MD_EVENT)

    def user_events(self) -> np.ndarray:
        with self.lock:
            return np.concatenate(self.user) if self.user else np.zeros(0, USER_EVENT)


def make_client(url: str, col: Collector, **kw) -> HlWsClient:
    cfg = WsClientConfig(url=url, coins=kw.pop("coins", ("BTC",)),
                         user=kw.pop("user", "0x" + "ab" * 20), **kw)
    return HlWsClient(cfg, col.md_sink, col.user_sink, col.on_state)


def wait_until(pred, timeout_s: float = 10.0, step_s: float = 0.01) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step_s)
    return pred()
