"""The venue's state: engine, accounts, nonces, limits, and what has been published.

Requests are answered by ``info.handle_info`` and ``exchange.handle_exchange``
over this state (they import it, never the other way round). Everything runs on
the server's event loop thread; the engine is not thread-safe and
does not need to be. Times on the wire are the wall clock in ms (what a client's
nonces and staleness checks compare against); the engine runs on the market's clock.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque

import numpy as np

from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE

from ..faults import FaultPlan
from ..matching.engine import VenueEngine
from ..matching.latency import new_latency
from ..matching.views import CoinSpec, FeeSchedule
from . import objects
from .auth import Accounts, NonceBook
from .clock import now_ms
from .meta import build_universe
from .ratelimit import AddressLimiter, IpLimiter
from .settings import VenueSettings, parse_fund

log = logging.getLogger(__name__)

MAX_FILLS_KEPT = 2000
MAX_ACCOUNTS = 64  # engine account slots (shm_layout.venue_records.MAX_VENUE_ACCOUNTS)
MAX_TRADES_KEPT = 50
ZERO_ADDR = "0x" + "0" * 40
ZERO_HASH = "0x" + "0" * 64


def make_engine(s: VenueSettings, universe) -> VenueEngine:
    specs = [CoinSpec(c.name, c.sz_decimals, c.max_leverage) for c in universe]
    jitter = s.order_latency_jitter_ms > 0
    latency = new_latency("lognormal" if jitter else "constant", int(round(s.order_latency_ms * 1e6)),
                          s.order_latency_jitter_ms * 1e6, s.order_latency_sigma, seed=int(s.seed) or 1)
    return VenueEngine(specs, FeeSchedule(s.maker_fee_bps, s.taker_fee_bps),
                       queue_model=s.queue_model, queue_power=s.queue_power,
                       max_accounts=MAX_ACCOUNTS, hash_salt=int(s.seed) & 0xFFFFFFFF,
                       latency=latency)


class VenueState:
    def __init__(self, settings: VenueSettings, faults: FaultPlan | None = None, engine=None) -> None:
        self.s = settings
        self.faults = faults or FaultPlan(seed=settings.seed)
        self.universe = build_universe(settings.coins)
        self.coin_by_name = {c.name: c for c in self.universe}
        self.engine = engine if engine is not None else make_engine(settings, self.universe)
        self.accounts = Accounts()
        self.nonces = NonceBook()
        self.ip_limiter = IpLimiter(settings.ip_weight_per_min)
        self.addr_limiter = AddressLimiter(settings.address_base_cap)
        self.hub = None  # WsHub, set by the app
        self.fills: dict[str, deque] = defaultdict(lambda: deque(maxlen=MAX_FILLS_KEPT))
        self.fundings: dict[str, deque] = defaultdict(lambda: deque(maxlen=MAX_FILLS_KEPT))
        self.orders: dict[int, dict] = {}  # oid -> wire order (frontend fields) + user
        self.order_status: dict[int, tuple[str, int]] = {}  # oid -> (status, ts ms)
        self.cloids: dict[tuple[str, str], int] = {}  # (user, cloid) -> oid
        self.trades: dict[str, deque] = defaultdict(lambda: deque(maxlen=MAX_TRADES_KEPT))
        self.funding_hist: dict[str, list] = defaultdict(list)
        self.scheduled_cancel: dict[str, int] = {}  # user -> time ms
        self.scheduled_oids: set[int] = set()
        self._last_book_push_mono: dict[str, float] = {}
        self._last_bbo: dict[str, tuple] = {}
        self._last_mids: dict[str, str] = {}
        self._tid = 1
        self.market_now_ms = now_ms()  # the engine's clock (source time), for place/modify
        for spec in settings.funded:
            addr, usdc = parse_fund(spec)
            self.fund(addr, usdc)
        for spec in settings.agents:
            agent, _, master = spec.partition(":")
            self.accounts.approve_agent(agent, master)

    # --- accounts ---------------------------------------------------------------------
    def fund(self, address: str, usdc: float) -> str:
        a = self.accounts.fund(address, usdc)
        self.engine.add_account(a, float(usdc))
        return a

    def approve_agent(self, agent: str, master: str) -> None:
        self.accounts.approve_agent(agent, master)

    # --- market ------------------------------------------------------------------------
    def on_market(self, events: np.ndarray) -> None:
        """Feed due source events to the engine and publish market data."""
        if not len(events):
            return
        if self.faults.depth_gap_share > 0.0:
            keep = np.ones(len(events), dtype=bool)
            for i in np.flatnonzero(events["kind"] == EV_BOOK):
                keep[i] = not self.faults.drop_depth()
            events = events[keep]
            if not len(events):
                return
        self.market_now_ms = int(events["exch_ts_ns"][-1]) // 1_000_000
        self.engine.on_market(events)
        wall = now_ms()
        kinds = events["kind"]
        coins_idx = events["coin"]
        touched: set[int] = set()
        trades_by_coin: dict[int, list] = defaultdict(list)
        for i in range(len(events)):
            k = int(kinds[i])
            ci = int(coins_idx[i])
            if ci >= len(self.universe):
                continue
            if k == EV_TRADE:
                ev = events[i]
                trade = {"coin": self.universe[ci].name, "side": "B" if ev["side"] > 0 else "A",
                         "px": objects.dec(float(ev["px"])), "sz": objects.dec(float(ev["sz"])),
                         "hash": ZERO_HASH, "time": wall, "tid": int(ev["trade_id"]) or self._next_tid(),
                         "users": [ZERO_ADDR, ZERO_ADDR]}
                trades_by_coin[ci].append(trade)
            elif k in (EV_BOOK, EV_BBO):
                touched.add(ci)
            elif k == EV_ASSET_CTX:
                self._on_ctx(ci, events[i], wall)
        hub = self.hub
        for ci, trades in trades_by_coin.items():
            coin = self.universe[ci].name
            self.trades[coin].extend(trades)
            if hub is not None:
                hub.publish(("trades", coin), "trades", trades)
        if hub is not None and touched:
            self._publish_books(touched, wall)
        self.after_request()

    def _next_tid(self) -> int:
        self._tid += 1
        return self._tid

    def _on_ctx(self, ci: int, ev, wall: int) -> None:
        coin = self.universe[ci].name
        hist = self.funding_hist[coin]
        hour = wall // 3_600_000
        if not hist or hist[-1]["time"] // 3_600_000 != hour:
            ctx = self.asset_ctx(coin)
            hist.append({"coin": coin, "fundingRate": ctx["funding"], "premium": ctx["premium"] or "0.0",
                         "time": wall})
        if self.hub is not None and self.hub.has(("activeAssetCtx", coin)):
            self.hub.publish(("activeAssetCtx", coin), "activeAssetCtx",
                             {"coin": coin, "ctx": self.asset_ctx(coin)})

    def _publish_books(self, touched: set[int], wall: int) -> None:
        hub = self.hub
        mono = time.monotonic()
        interval_s = self.s.l2book_min_interval_ms / 1000.0
        for ci in touched:
            coin = self.universe[ci].name
            book = None
            key = ("l2Book", coin, None, None)
            if hub.has(key) and mono - self._last_book_push_mono.get(coin, -1e9) >= interval_s:
                book = self.l2_book(coin, wall)
                self._last_book_push_mono[coin] = mono
                hub.publish(key, "l2Book", book)
            if hub.has(("bbo", coin)):
                bbo = self.bbo(coin, wall)
                sig = tuple(None if lv is None else (lv["px"], lv["sz"]) for lv in bbo["bbo"])
                if sig != self._last_bbo.get(coin):
                    self._last_bbo[coin] = sig
                    hub.publish(("bbo", coin), "bbo", bbo)
        if hub.has(("allMids", "")):
            mids = self.all_mids()
            if mids != self._last_mids:
                self._last_mids = mids
                hub.publish(("allMids", ""), "allMids", {"mids": mids})

    # --- market views ------------------------------------------------------------------
    def l2_book(self, coin: str, wall: int | None = None) -> dict:
        bids, asks = self.engine.book(coin)
        return {"coin": coin, "time": wall or now_ms(),
                "levels": [objects.levels(bids), objects.levels(asks)]}

    def bbo(self, coin: str, wall: int | None = None) -> dict:
        bids, asks = self.engine.book(coin)
        lv = objects.levels(bids[:1]), objects.levels(asks[:1])
        return {"coin": coin, "time": wall or now_ms(),
                "bbo": [lv[0][0] if lv[0] else None, lv[1][0] if lv[1] else None]}

    def mid(self, coin: str) -> float | None:
        bids, asks = self.engine.book(coin)
        if len(bids) and len(asks):
            return 0.5 * (float(objects.level_px(bids[0])) + float(objects.level_px(asks[0])))
        return None

    def all_mids(self) -> dict:
        out = {}
        for c in self.universe:
            m = self.mid(c.name)
            if m is not None:
                out[c.name] = objects.dec(m)
        return out

    def asset_ctx(self, coin: str) -> dict:
        return objects.asset_ctx(self.engine.asset_ctx(coin), self.mid(coin))

    # --- user updates ---------------------------------------------------------------------
    def after_request(self) -> None:
        """Drain the engine's updates and publish them on the user channels."""
        updates = self.engine.drain_updates()
        if not updates:
            return
        wall = now_ms()
        fills: dict[str, list] = defaultdict(list)
        orders: dict[str, list] = defaultdict(list)
        hub = self.hub
        for address, kind, payload in updates:
            if kind == "fill":
                f = objects.fill(payload, wall, self)
                fills[address].append(f)
                self.addr_limiter.add_volume(address, float(f["px"]) * float(f["sz"]))
            elif kind == "order":
                upd = objects.order_update(payload, wall, self)
                if upd["order"]["oid"] in self.scheduled_oids and upd["status"] == "canceled":
                    upd["status"] = "scheduledCancel"
                    self.scheduled_oids.discard(upd["order"]["oid"])
                self.order_status[upd["order"]["oid"]] = (upd["status"], wall)
                orders[address].append(upd)
            elif kind == "funding":
                fu = objects.funding(payload, wall)
                self.fundings[address].append(fu)
                if hub is not None:
                    hub.publish_user("userEvents", address, {"funding": {k: fu[k] for k in (
                        "coin", "usdc", "szi", "fundingRate", "nSamples")}})
                    hub.publish_user("userFundings", address, {"user": address, "fundings": [fu]})
            elif kind == "liquidation":
                if hub is not None:
                    hub.publish_user("userEvents", address,
                                     {"liquidation": objects.liquidation(payload, address)})
            elif kind == "nonUserCancel" and hub is not None:
                hub.publish_user("userEvents", address,
                                 {"nonUserCancel": objects.non_user_cancel(payload)})
        for address, fl in fills.items():
            self.fills[address].extend(fl)
            if hub is not None:
                hub.publish_user("userFills", address, {"user": address, "fills": fl})
                hub.publish_user("userEvents", address, {"fills": fl})
        if hub is not None:
            for address, ol in orders.items():
                hub.publish_user("orderUpdates", address, ol)

    def run_scheduled_cancels(self, wall: int) -> None:
        if not self.scheduled_cancel:
            return
        for user, t in list(self.scheduled_cancel.items()):
            if wall >= t:
                del self.scheduled_cancel[user]
                for o in self.engine.open_orders(user):
                    oid = objects.attr(o, "oid")
                    self.scheduled_oids.add(int(oid))
                    self.engine.cancel(user, objects.attr(o, "coin"), int(oid))
        self.after_request()

    # --- ws snapshots on subscribe -------------------------------------------------------
    def snapshot_for(self, key: tuple) -> list[tuple[str, object]]:
        typ = key[0]
        if typ == "l2Book" and key[1] in self.coin_by_name:
            return [("l2Book", self.l2_book(key[1]))]
        if typ == "bbo" and key[1] in self.coin_by_name:
            return [("bbo", self.bbo(key[1]))]
        if typ == "trades" and self.trades.get(key[1]):
            return [("trades", list(self.trades[key[1]]))]
        if typ == "allMids":
            return [("allMids", {"mids": self.all_mids()})]
        if typ == "activeAssetCtx" and key[1] in self.coin_by_name:
            return [("activeAssetCtx", {"coin": key[1], "ctx": self.asset_ctx(key[1])})]
        if typ == "userFills":
            return [("userFills", {"user": key[1], "isSnapshot": True,
                                   "fills": list(self.fills.get(key[1], ()))})]
        if typ == "userFundings":
            return [("userFundings", {"user": key[1], "isSnapshot": True,
                                      "fundings": list(self.fundings.get(key[1], ()))})]
        return []
