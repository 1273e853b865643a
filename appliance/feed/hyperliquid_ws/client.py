"""A Hyperliquid websocket connection manager that reconnects (the SDK's does not).

One connection carries every subscription: per coin ``l2Book``, ``trades``,
``bbo``, ``activeAssetCtx``; per user ``userFills``, ``orderUpdates``,
``userEvents`` (channel ``user``) and ``userFundings``. The loop runs in its own
thread (``start``) or in the caller's (``run``):

* connect (websocket-client, blocking, with a timeout), send every subscription;
* receive frames with a short socket timeout; each frame is stamped with
  ``time.time_ns()`` the moment ``recv`` returns and decoded straight into the
  reused MD_EVENT / USER_EVENT buffers, which are handed to the sinks per frame;
* no frame for ``ping_idle_s`` -> ``{"method":"ping"}`` (the server drops a
  connection it has not sent to in 60 s); no frame at all, not even a pong, for
  ``stale_after_s`` -> the connection is stale: close it and reconnect;
* a failed connect or a dropped connection counts as a failure; the wait before
  the next attempt grows exponentially with jitter up to a cap; a connection that
  delivers data resets the count; ``max_failures`` in a row -> state ``fatal``
  and the loop ends (the feed process then sets the kill flag);
* on every connection after the first: the next book of each coin carries
  FLAG_BOOK_GAP, and the snapshots that follow the resubscription (userFills,
  userFundings, the trades replay) are de-duplicated downstream; on every
  connection a UE_RESYNC user event tells the gateway to reconcile
  (``tid`` = connection number, 1 = first connect).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson
import websocket

from ..events import SourceStats
from .decode import CH_BOOK, CH_USER, HlDecoder, ReusableEventWriter, Sink, UserEventWriter

log = logging.getLogger(__name__)

MAINNET_WS_URL = "wss://api.hyperliquid.xyz/ws"
TESTNET_WS_URL = "wss://api.hyperliquid-testnet.xyz/ws"

COIN_CHANNELS = ("l2Book", "trades", "bbo", "activeAssetCtx")
USER_CHANNELS = ("userFills", "orderUpdates", "userEvents", "userFundings")

# Client states (``HlWsClient.state``).
ST_IDLE = "idle"
ST_CONNECTING = "connecting"
ST_LIVE = "live"
ST_BACKOFF = "backoff"
ST_FATAL = "fatal"
ST_STOPPED = "stopped"


@dataclass(frozen=True)
class WsClientConfig:
    url: str
    coins: tuple[str, ...]
    user: str | None = None  # master or subaccount address (never the agent's)
    coin_channels: tuple[str, ...] = COIN_CHANNELS
    user_channels: tuple[str, ...] = USER_CHANNELS
    ping_idle_s: float = 20.0  # well inside the server's 60 s
    stale_after_s: float = 45.0  # no frame, not even a pong
    connect_timeout_s: float = 10.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    backoff_jitter: float = 0.5  # the wait is drawn from [1 - jitter, 1] x the step
    max_failures: int = 10  # in a row -> fatal
    md_buffer_events: int = 256
    user_buffer_events: int = 256
    drop_stale_trades: bool = True


def subscriptions(coins: Sequence[str], user: str | None,
                  coin_channels: Sequence[str] = COIN_CHANNELS,
                  user_channels: Sequence[str] = USER_CHANNELS) -> list[dict]:
    """Every subscription object of one connection, coins first."""
    subs: list[dict] = [{"type": ch, "coin": c} for c in coins for ch in coin_channels]
    if user:
        subs += [{"type": ch, "user": user} for ch in user_channels]
    return subs


class Backoff:
    """Exponential backoff with jitter and a cap: the k-th wait in a row is drawn
    from ``[(1 - jitter) s, s]`` with ``s = min(cap, base * 2**k)``."""

    def __init__(self, base_s: float, cap_s: float, jitter: float, rng: random.Random | None = None):
        if not (base_s > 0 and cap_s >= base_s and 0.0 <= jitter <= 1.0):
            raise ValueError(f"bad backoff base={base_s} cap={cap_s} jitter={jitter}")
        self.base_s, self.cap_s, self.jitter = base_s, cap_s, jitter
        self.rng = rng or random.Random()
        self.k = 0

    def step_s(self) -> float:
        """The envelope of the next wait (before jitter)."""
        return min(self.cap_s, self.base_s * 2.0 ** min(self.k, 62))

    def next_s(self) -> float:
        s = self.step_s()
        self.k += 1
        return s * (1.0 - self.jitter * self.rng.random())

    def reset(self) -> None:
        self.k = 0


@dataclass
class ClientStats:
    connects: int = 0  # connections established
    connect_failures: int = 0  # attempts that did not connect
    drops: int = 0  # established connections that ended (closed, error, stale)
    stale_reconnects: int = 0
    consecutive_failures: int = 0
    pings_sent: int = 0
    frames: int = 0
    last_reason: str = ""
    market: SourceStats = field(default_factory=SourceStats)

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "market"}
        d.update({f"market_{k}": v for k, v in self.market.to_dict().items()})
        return d


class HlWsClient:
    """The supervisor loop around one websocket connection (see module doc)."""

    def __init__(
        self,
        cfg: WsClientConfig,
        md_sink: Sink,
        user_sink: Sink | None = None,
        on_state: Callable[[str, str], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.cfg = cfg
        self.stats = ClientStats()
        self.md = ReusableEventWriter(cfg.md_buffer_events, self.stats.market, md_sink)
        self.user = UserEventWriter(cfg.user_buffer_events, user_sink) if user_sink else None
        self.decoder = HlDecoder(cfg.coins, self.md, self.user, self.stats.market,
                                 drop_stale_trades=cfg.drop_stale_trades)
        self.subs = subscriptions(cfg.coins, cfg.user, cfg.coin_channels, cfg.user_channels)
        self.backoff = Backoff(cfg.backoff_base_s, cfg.backoff_cap_s, cfg.backoff_jitter, rng)
        self.on_state = on_state
        self.state = ST_IDLE
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ws: websocket.WebSocket | None = None
        self._send_lock = threading.Lock()

    # --- control ----------------------------------------------------------------

    @property
    def fatal(self) -> bool:
        return self.state == ST_FATAL

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="hl-ws", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, join_s: float = 5.0) -> None:
        self._stop.set()
        ws = self._ws
        if ws is not None:
            try:
                ws.abort()  # wakes a blocked recv
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(join_s)

    def send_json(self, msg: dict) -> bool:
        """Send one message on the live connection (any thread); False if none."""
        ws = self._ws
        if ws is None or self.state != ST_LIVE:
            return False
        try:
            with self._send_lock:
                ws.send(orjson.dumps(msg).decode())
            return True
        except Exception:  # noqa: BLE001 - the receive loop sees the broken link
            return False

    def _set_state(self, state: str, why: str = "") -> None:
        if state != self.state:
            self.state = state
            if state in (ST_FATAL, ST_BACKOFF):
                log.warning("hyperliquid ws %s: %s", state, why)
            else:
                log.info("hyperliquid ws %s %s", state, why)
            if self.on_state is not None:
                self.on_state(state, why)

    # --- the loop -----------------------------------------------------------------

    def run(self) -> None:
        """Connect, receive, reconnect until ``stop()`` or a fatal state."""
        cfg, st = self.cfg, self.stats
        while not self._stop.is_set():
            self._set_state(ST_CONNECTING, cfg.url)
            try:
                ws = websocket.create_connection(cfg.url, timeout=cfg.connect_timeout_s,
                                                 enable_multithread=False)
            except Exception as exc:  # noqa: BLE001 - any connect error is one failure
                st.connect_failures += 1
                if self._failed(f"connect: {type(exc).__name__}: {exc}"):
                    return
                continue
            st.connects += 1
            _, reason = self._session(ws)
            self._ws = None
            try:
                ws.close(timeout=0.2)
            except Exception:  # noqa: BLE001
                pass
            if self._stop.is_set():
                break
            st.drops += 1
            if self._failed(reason):
                return
        self._set_state(ST_STOPPED)

    def _failed(self, reason: str) -> bool:
        """Count a failure, wait the backoff; True when the client is now fatal."""
        st = self.stats
        st.consecutive_failures += 1
        st.last_reason = reason
        if st.consecutive_failures >= self.cfg.max_failures:
            self._set_state(ST_FATAL, f"{st.consecutive_failures} failures in a row; last: {reason}")
            return True
        wait_s = self.backoff.next_s()
        self._set_state(ST_BACKOFF, f"{reason}; retry in {wait_s:.2f} s")
        self._stop.wait(wait_s)
        return False

    def _session(self, ws: websocket.WebSocket) -> tuple[bool, str]:
        """One connection: subscribe, receive until it ends. (got data, why it ended)."""
        cfg, st, dec = self.cfg, self.stats, self.decoder
        tick_s = max(0.01, min(1.0, cfg.ping_idle_s / 4, cfg.stale_after_s / 4))
        try:
            ws.settimeout(tick_s)
            for sub in self.subs:  # nobody else sends before the state is live
                ws.send(orjson.dumps({"method": "subscribe", "subscription": sub}).decode())
        except Exception as exc:  # noqa: BLE001
            return False, f"subscribe: {type(exc).__name__}: {exc}"
        self._ws = ws
        if st.connects > 1:
            dec.mark_gap()
        dec.resync(time.time_ns(), st.connects)
        if self.user is not None:
            self.user.commit()
        self._set_state(ST_LIVE, f"connection {st.connects}, {len(self.subs)} subscriptions")
        got_data = False
        last_rx = last_ping = time.monotonic()
        while not self._stop.is_set():
            try:
                opcode, data = ws.recv_data()
            except websocket.WebSocketTimeoutException:
                now = time.monotonic()
                if now - last_rx >= cfg.stale_after_s:
                    st.stale_reconnects += 1
                    return got_data, f"stale: no frame for {now - last_rx:.2f} s"
                if now - last_rx >= cfg.ping_idle_s and now - last_ping >= cfg.ping_idle_s:
                    try:
                        with self._send_lock:
                            ws.send('{"method":"ping"}')
                    except Exception as exc:  # noqa: BLE001
                        return got_data, f"ping: {type(exc).__name__}: {exc}"
                    st.pings_sent += 1
                    last_ping = now
                continue
            except Exception as exc:  # noqa: BLE001 - closed, reset, protocol error
                return got_data, f"receive: {type(exc).__name__}: {exc}"
            recv_ns = time.time_ns()
            last_rx = time.monotonic()
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return got_data, "closed by the server"
            if opcode not in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                continue
            st.frames += 1
            if CH_BOOK <= dec.feed(data, recv_ns) <= CH_USER and not got_data:
                got_data = True  # a data channel, not just acks: the link works
                st.consecutive_failures = 0
                self.backoff.reset()
            self.md.commit()
            if self.user is not None:
                self.user.commit()
        return got_data, "stopped"
