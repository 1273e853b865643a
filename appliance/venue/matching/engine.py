"""VenueEngine: the matching kernels behind a Python API for the venue server.

It owns the venue arrays, the address/oid/cloid maps and the history the info
endpoints need (fills, order statuses), and turns kernel outputs into plain
dataclasses (``views.py``). No JSON here: the server formats. All times are on one clock, the
market events' (``exch_ts_ns``); ``now_ms=None`` means "the venue's current time".
"""

from __future__ import annotations

import hashlib

import numpy as np

from shm_layout.venue_records import (
    DIR_NAMES,
    ORDER_STATUS_NAMES,
    OS_LIQUIDATED_CANCELED,
    OS_OPEN,
    OS_REDUCE_ONLY_CANCELED,
    OS_SELF_TRADE_CANCELED,
    RES_ERR_ALO_CROSS,
    RES_FILLED,
    RES_RESTING,
    TIF_NAMES,
    UPD_FUNDING,
    UPD_LIQUIDATION,
    UPD_ORDER,
)

from . import accounts as acc_k
from .book import on_market_events
from .entry import best_prices, cancel_order, modify_order, place_order, update_leverage
from .latency import new_latency, sample_latency_ns
from .state import fund_account, new_place_result, new_venue
from .texts import ERROR_TEXTS, LEVERAGE_ERROR_TEXTS
from .views import (
    AccountView,
    CoinSpec,
    FeeSchedule,
    Fill,
    Funding,
    Liquidation,
    OpenOrder,
    OrderResult,
    PositionView,
)

MODIFY_DEAD_TEXT = "Cannot modify canceled or filled order"
_NON_USER = (OS_SELF_TRADE_CANCELED, OS_LIQUIDATED_CANCELED, OS_REDUCE_ONLY_CANCELED)


def cloid_bytes(cloid: str | None) -> np.ndarray:
    b = np.zeros(16, np.uint8)
    if cloid:
        b[:] = np.frombuffer(bytes.fromhex(cloid[2:] if cloid.startswith("0x") else cloid), np.uint8)
    return b


class VenueEngine:
    def __init__(self, coins: list[CoinSpec], fees: FeeSchedule | None = None,
                 queue_model: str = "prob_power", queue_power: float = 2.0,
                 max_accounts: int = 16, hash_salt: int = 0,
                 latency: np.ndarray | None = None) -> None:
        fees = fees or FeeSchedule()
        self.coins = list(coins)
        self.coin_index = {c.name: i for i, c in enumerate(self.coins)}
        self.va = new_venue([c.sz_decimals for c in coins], [float(c.max_leverage) for c in coins],
                            n_accounts=max_accounts, maker_bps=fees.maker_bps,
                            taker_bps=fees.taker_bps, queue_model=queue_model,
                            queue_power=queue_power, hash_salt=hash_salt)
        self.latency = latency if latency is not None else new_latency()
        self._salt = hash_salt.to_bytes(8, "little")
        self._res = new_place_result()
        self._addr: dict[str, int] = {}
        self._addr_of: list[str] = []
        self._orders: dict[int, tuple[str, OpenOrder]] = {}  # oid -> (address, order)
        self._slot: dict[int, int] = {}  # oid -> slot while live
        self._cloid: dict[tuple[str, str], int] = {}  # (address, cloid) -> latest oid
        self._fills: dict[str, list[Fill]] = {}
        self._fundings: dict[str, list[Funding]] = {}
        self._pending: list[tuple[str, str, object]] = []

    # --- clock, accounts -------------------------------------------------------
    def now_ms(self) -> int:
        return int(self.va.st[0]["now_ns"]) // 1_000_000

    def order_latency_ns(self) -> int:
        """One draw of the configured entry latency (the server delays by it)."""
        return int(sample_latency_ns(self.latency[0]))

    def add_account(self, address: str, usdc: float) -> None:
        a = address.lower()
        if a not in self._addr:
            if len(self._addr_of) >= len(self.va.accounts):
                raise ValueError("venue account slots exhausted")
            self._addr[a] = len(self._addr_of)
            self._addr_of.append(a)
            self._fills[a] = []
            self._fundings[a] = []
        fund_account(self.va, self._addr[a], usdc)

    def has_account(self, address: str) -> bool:
        return address.lower() in self._addr

    # --- market ----------------------------------------------------------------
    def on_market(self, events: np.ndarray) -> None:
        st = self.va.st[0]
        step = max(1, len(self.va.fills) // 4)
        for i in range(0, len(events), step):
            on_market_events(st, *self.va[1:], events[i:i + step])
            self._collect()

    # --- orders ----------------------------------------------------------------
    def place(self, address: str, coin: str, is_buy: bool, limit_px: float, sz: float,
              tif: str = "Gtc", reduce_only: bool = False, cloid: str | None = None,
              now_ms: int | None = None, latency_ns: int = 0) -> OrderResult:
        return self._submit(address, coin, is_buy, limit_px, sz, tif, reduce_only, cloid,
                            now_ms, latency_ns, -1)

    def _submit(self, address: str, coin: str, is_buy: bool, limit_px: float, sz: float,
                tif: str, reduce_only: bool, cloid: str | None, now_ms: int | None,
                latency_ns: int, modify_slot: int) -> OrderResult:
        """A new order, or (``modify_slot`` >= 0) the modify of the order there."""
        a = self._addr.get(address.lower())
        c = self.coin_index.get(coin)
        if a is None:
            return OrderResult("error", cloid=cloid, error=ERROR_TEXTS[11])
        if c is None:
            return OrderResult("error", cloid=cloid, error=ERROR_TEXTS[9])
        now_ns = self._now_ns(now_ms)
        r = self._res[0]
        args = (a, c, 1 if is_buy else -1, float(limit_px), float(sz),
                TIF_NAMES.index(tif.capitalize()), bool(reduce_only), cloid_bytes(cloid),
                cloid is not None, now_ns, now_ns + latency_ns, self._res)
        if modify_slot >= 0:
            code = int(modify_order(self.va.st[0], *self.va[1:], modify_slot, *args))
        else:
            code = int(place_order(self.va.st[0], *self.va[1:], *args))
        oid = int(r["oid"])
        if oid:
            addr = self._addr_of[a]
            self._orders[oid] = (addr, OpenOrder(
                coin, "B" if is_buy else "A", float(limit_px), float(sz), oid, now_ns // 1_000_000,
                float(sz), cloid, tif.capitalize(), bool(reduce_only)))
            if cloid:
                self._cloid[(addr, cloid.lower())] = oid
            if code == RES_RESTING:
                self._slot[oid] = int(r["slot"])
        self._collect()
        if code == RES_RESTING:
            return OrderResult("resting", oid, cloid, float(r["filled_sz"]), float(r["avg_px"]))
        if code == RES_FILLED:
            return OrderResult("filled", oid, cloid, float(r["filled_sz"]), float(r["avg_px"]))
        text = ERROR_TEXTS[code]
        if code == RES_ERR_ALO_CROSS:
            text = text.format(bid=_num(r["bbo_bid_px"]), ask=_num(r["bbo_ask_px"]))
        return OrderResult("error", oid or None, cloid, error=text)

    def _now_ns(self, now_ms: int | None) -> int:
        st_now = int(self.va.st[0]["now_ns"])
        return st_now if now_ms is None else max(int(now_ms) * 1_000_000, 0)

    def _live_oid(self, address: str, coin: str | None, oid_or_cloid: int | str) -> int | None:
        addr = address.lower()
        oid = self._cloid.get((addr, oid_or_cloid.lower())) if isinstance(oid_or_cloid, str) \
            else int(oid_or_cloid)
        if oid is None or oid not in self._slot:
            return None
        owner, o = self._orders[oid]
        if owner != addr or (coin is not None and o.coin != coin):
            return None
        return oid

    def cancel(self, address: str, coin: str, oid: int, now_ms: int | None = None) -> bool:
        live = self._live_oid(address, coin, int(oid))
        if live is None:
            return False
        ok = bool(cancel_order(self.va.st[0], self.va.books, self.va.orders, self.va.updates,
                               self._slot[live], self._now_ns(now_ms)))
        self._collect()
        return ok

    def cancel_by_cloid(self, address: str, coin: str, cloid: str, now_ms: int | None = None) -> bool:
        live = self._live_oid(address, coin, cloid)
        return False if live is None else self.cancel(address, coin, live, now_ms)

    def modify(self, address: str, oid_or_cloid: int | str, coin: str, is_buy: bool,
               limit_px: float, sz: float, tif: str = "Gtc", reduce_only: bool = False,
               cloid: str | None = None, now_ms: int | None = None) -> OrderResult:
        """``entry.modify_order``: the new order gets a new oid and joins the queue's
        back (the queue rule the backtester applies too)."""
        live = self._live_oid(address, None, oid_or_cloid)
        if live is None:
            return OrderResult("error", cloid=cloid, error=MODIFY_DEAD_TEXT)
        return self._submit(address, coin, is_buy, limit_px, sz, tif, reduce_only, cloid, now_ms,
                            0, self._slot[live])

    def cancel_all(self, address: str, now_ms: int | None = None) -> int:
        return sum(self.cancel(address, o.coin, o.oid, now_ms) for o in self.open_orders(address))

    def update_leverage(self, address: str, coin: str, leverage: int, is_cross: bool) -> str | None:
        a = self._addr.get(address.lower())
        c = self.coin_index.get(coin)
        if a is None or c is None:
            return ERROR_TEXTS[11] if a is None else ERROR_TEXTS[9]
        code = int(update_leverage(self.va.st[0], self.va.books, self.va.accounts,
                                   self.va.positions, a, c, float(leverage), bool(is_cross)))
        return LEVERAGE_ERROR_TEXTS.get(code) if code else None

    # --- queries ---------------------------------------------------------------
    def open_orders(self, address: str) -> list[OpenOrder]:
        addr = address.lower()
        out = [self._orders[oid][1] for oid in self._slot if self._orders[oid][0] == addr]
        return sorted(out, key=lambda o: o.oid, reverse=True)

    def order_status(self, address: str, oid_or_cloid: int | str) -> OpenOrder | None:
        addr = address.lower()
        oid = self._cloid.get((addr, oid_or_cloid.lower())) if isinstance(oid_or_cloid, str) \
            else int(oid_or_cloid)
        got = self._orders.get(oid) if oid is not None else None
        return got[1] if got and got[0] == addr else None

    def queue_ahead(self, oid: int) -> float | None:
        slot = self._slot.get(oid)
        return None if slot is None else float(self.va.orders[slot]["queue_ahead_sz"])

    def fills(self, address: str) -> list[Fill]:
        return list(self._fills.get(address.lower(), []))

    def fundings(self, address: str) -> list[Funding]:
        return list(self._fundings.get(address.lower(), []))

    def account(self, address: str) -> AccountView | None:
        a = self._addr.get(address.lower())
        if a is None:
            return None
        va = self.va
        positions = []
        ntl = margin = mm = 0.0
        for c, spec in enumerate(self.coins):
            p = va.positions[a, c]
            szi = float(p["szi"])
            if szi == 0.0:
                continue
            mark = float(acc_k.mark_of(va.books[c]))
            value = abs(szi) * mark
            m = value / float(p["leverage"])
            upnl = szi * (mark - float(p["entry_px"]))
            ntl += value
            margin += m
            mm += value / (2.0 * spec.max_leverage)
            liq = float(p["liq_px"])
            positions.append(PositionView(
                spec.name, szi, float(p["entry_px"]), float(p["leverage"]), bool(p["is_cross"]),
                liq if liq > 0.0 else None, m, value, upnl, upnl / m if m else 0.0,
                spec.max_leverage, float(p["cum_funding_all_usd"]),
                float(p["cum_funding_open_usd"]), float(p["cum_funding_change_usd"])))
        value = float(acc_k.account_value(va.books, va.accounts, va.positions, a))
        return AccountView(value, ntl, float(va.accounts[a]["usdc_usd"]), margin, mm,
                           max(value - margin, 0.0), positions)

    def book(self, coin: str):
        """Merged book: displayed (net of our takers' depletion) plus live local orders.
        Returns (bids, asks), each a list of (px, sz, n), best first."""
        bk = self.va.books[self.coin_index[coin]]
        sides = []
        for pre, sign in (("bid", 1), ("ask", -1)):
            lv: dict[float, list] = {}
            for i in range(int(bk[f"n_{pre}s"])):
                px = float(bk[f"{pre}_px"][i])
                lv[px] = [float(bk[f"{pre}_sz"][i]), int(bk[f"{pre}_n"][i])]
            for j in range(int(bk[f"n_{pre}_taken"])):
                px = float(bk[f"{pre}_taken_px"][j])
                if px in lv:
                    lv[px][0] -= float(bk[f"{pre}_taken_sz"][j])
            for k in range(int(bk["n_live"])):
                o = self.va.orders[bk["live"][k]]
                if int(o["side"]) == sign:
                    e = lv.setdefault(float(o["px"]), [0.0, 0])
                    e[0] += float(o["sz"])
                    e[1] += 1
            sides.append(sorted(((p, s, max(n, 1)) for p, (s, n) in lv.items() if s > 1e-12),
                                key=lambda t: -sign * t[0]))
        return sides[0], sides[1]

    def bbo(self, coin: str) -> tuple[float, float]:
        return tuple(float(x) for x in best_prices(self.va.st[0], self.va.books, self.va.orders,
                                                   self.coin_index[coin]))

    def mark(self, coin: str) -> float:
        return float(acc_k.mark_of(self.va.books[self.coin_index[coin]]))

    def oracle(self, coin: str) -> float:
        bk = self.va.books[self.coin_index[coin]]
        return float(bk["oracle_px"]) or self.mark(coin)

    def funding_rate(self, coin: str) -> float:
        return float(self.va.books[self.coin_index[coin]]["funding_rate_per_h"])

    def asset_ctx(self, coin: str) -> dict[str, float]:
        bk = self.va.books[self.coin_index[coin]]
        mid = (0.5 * (float(bk["bid_px"][0]) + float(bk["ask_px"][0]))
               if bk["n_bids"] > 0 and bk["n_asks"] > 0 else 0.0)
        mark, oracle = self.mark(coin), self.oracle(coin)
        return {"mark_px": mark, "oracle_px": oracle, "mid_px": mid,
                "funding": self.funding_rate(coin), "open_interest": float(bk["open_interest"]),
                "premium": (mark - oracle) / oracle if oracle else 0.0,
                "impact_bid_px": float(bk["bid_px"][0]), "impact_ask_px": float(bk["ask_px"][0])}

    # --- outputs ---------------------------------------------------------------
    def drain_updates(self) -> list[tuple[str, str, object]]:
        """Everything since the last drain: (address, kind, payload) with kind "fill"
        (Fill), "order" (OpenOrder with status/status_ms), "funding" (Funding),
        "liquidation" (Liquidation) or "nonUserCancel" ((coin, oid))."""
        self._collect()
        out, self._pending = self._pending, []
        return out

    def _collect(self) -> None:
        va = self.va
        st = va.st[0]
        nf = int(st["n_fills"])
        for f in va.fills[:nf]:
            addr = self._addr_of[int(f["account"])]
            oid = int(f["oid"])
            o = self._orders.get(oid)
            tid = int(f["tid"])
            h = hashlib.blake2b(self._salt + tid.to_bytes(8, "little") + oid.to_bytes(8, "little"),
                                digest_size=32).hexdigest()
            fill = Fill(self.coins[int(f["coin"])].name, float(f["px"]), float(f["sz"]),
                        "B" if f["side"] > 0 else "A", int(f["time_ns"]) // 1_000_000,
                        float(f["start_position"]), DIR_NAMES[int(f["dir"])],
                        float(f["closed_pnl_usd"]), "0x" + h, oid, bool(f["crossed"]),
                        float(f["fee_usd"]), tid, o[1].cloid if o else None, bool(f["liquidation"]))
            self._fills[addr].append(fill)
            self._pending.append((addr, "fill", fill))
        st["n_fills"] = 0
        nu = int(st["n_updates"])
        for u in va.updates[:nu]:
            addr = self._addr_of[int(u["account"])]
            coin = self.coins[int(u["coin"])].name
            t_ms = int(u["time_ns"]) // 1_000_000
            kind = int(u["kind"])
            if kind == UPD_ORDER:
                oid = int(u["oid"])
                o = self._orders[oid][1]
                o.sz = float(u["v0"])
                o.status = ORDER_STATUS_NAMES[int(u["status"])]
                o.status_ms = t_ms
                if int(u["status"]) != OS_OPEN:
                    self._slot.pop(oid, None)
                self._pending.append((addr, "order", OpenOrder(**o.__dict__)))
                if int(u["status"]) in _NON_USER:
                    self._pending.append((addr, "nonUserCancel", (coin, oid)))
            elif kind == UPD_FUNDING:
                fu = Funding(t_ms, coin, float(u["v0"]), float(u["v1"]), float(u["v2"]))
                self._fundings[addr].append(fu)
                self._pending.append((addr, "funding", fu))
            elif kind == UPD_LIQUIDATION:
                self._pending.append((addr, "liquidation", Liquidation(
                    t_ms, coin, float(u["v0"]), float(u["v1"]), float(u["v2"]))))
        st["n_updates"] = 0


def _num(x: float) -> str:
    """Shortest decimal text of a price (no trailing zeros), for error texts."""
    s = f"{float(x):.8f}".rstrip("0").rstrip(".")
    return s or "0"
