"""Market channels of the Hyperliquid decoder (``MarketFrames``, mixed into
``HlDecoder``): ``l2Book`` -> EV_BOOK, ``trades`` -> EV_TRADE (stale and repeated
trades dropped), ``bbo`` -> EV_BBO, ``activeAssetCtx`` -> EV_ASSET_CTX."""

from ..events import MalformedFrameError
from .decode_fields import (
    _MS,
    CH_ASSET_CTX,
    CH_BBO,
    CH_BOOK,
    CH_MALFORMED,
    CH_OTHER,
    CH_TRADES,
    TID_MEMORY,
    _int63,
    _levels,
    _num,
    _px,
    _side,
    _sz,
    _time_ms,
)


class MarketFrames:
    def _market_coin(self, coin: object) -> int | None:
        """The configured index of ``coin``; None (counted as skipped) otherwise."""
        ci = self.coin_index.get(coin)
        if ci is None:
            self.stats.skipped += 1
        return ci

    def _advance_clock(self, ci: int, ts: int) -> None:
        """The coin's clock: the newest venue time emitted (stale trades are judged by it)."""
        if ts > self.last_ts_ns[ci]:
            self.last_ts_ns[ci] = ts

    def _book(self, data: object, recv: int) -> int:
        st = self.stats
        try:
            coin = data["coin"]  # type: ignore[index]
            ts = _time_ms(data["time"]) * _MS  # type: ignore[index]
            levels = data["levels"]  # type: ignore[index]
            if not isinstance(levels, list) or len(levels) != 2:
                raise MalformedFrameError("levels is not [bids, asks]")
            bpx, bsz, bn = _levels(levels[0])
            apx, asz, an = _levels(levels[1])
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            st.malformed += 1
            return CH_MALFORMED
        ci = self._market_coin(coin)
        if ci is None:
            return CH_OTHER
        flags = int(self._gap[ci])
        self._gap[ci] = 0
        self.md.book(ci, ts, recv, flags, bpx, bsz, apx, asz, bn, an)
        self._advance_clock(ci, ts)
        return CH_BOOK

    def _bbo(self, data: object, recv: int) -> int:
        st = self.stats
        try:
            coin = data["coin"]  # type: ignore[index]
            ts = _time_ms(data["time"]) * _MS  # type: ignore[index]
            bid, ask = data["bbo"]  # type: ignore[index]
            if bid is None or ask is None:
                # One side empty: nothing a BBO event can carry faithfully.
                st.skipped += 1
                return CH_OTHER
            bpx, bsz = _px(bid["px"]), _sz(bid["sz"])
            apx, asz = _px(ask["px"]), _sz(ask["sz"])
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            st.malformed += 1
            return CH_MALFORMED
        ci = self._market_coin(coin)
        if ci is None:
            return CH_OTHER
        self.md.bbo(ci, ts, recv, 0, bpx, bsz, apx, asz)
        self._advance_clock(ci, ts)
        return CH_BBO

    def _asset_ctx(self, data: object, recv: int) -> int:
        st = self.stats
        try:
            coin = data["coin"]  # type: ignore[index]
            ctx = data["ctx"]  # type: ignore[index]
            mark = _px(ctx["markPx"])
            oi = _sz(ctx["openInterest"])
            funding = _num(ctx["funding"])
            oracle = _px(ctx["oraclePx"])
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            st.malformed += 1
            return CH_MALFORMED
        ci = self._market_coin(coin)
        if ci is None:
            return CH_OTHER
        # No venue time in the ctx: stamp it no earlier than the coin's clock.
        ts = max(recv, self.last_ts_ns[ci])
        self.md.asset_ctx(ci, ts, recv, 0, mark, oi, funding, oracle)
        return CH_ASSET_CTX

    def _trades(self, data: object, recv: int) -> int:
        st = self.stats
        if not isinstance(data, list):
            st.malformed += 1
            return CH_MALFORMED
        parsed: list[tuple[int, int, float, float, int, int]] = []
        for t in data:
            try:
                coin = t["coin"]
                side = _side(t["side"])
                tid = _int63(t["tid"], "tid")
                item = (_time_ms(t["time"]) * _MS, _px(t["px"]), _sz(t["sz"]))
            except (ValueError, KeyError, TypeError, AttributeError, IndexError):
                st.malformed += 1
                continue
            ci = self._market_coin(coin)
            if ci is None:
                continue
            parsed.append((item[0], ci, item[1], item[2], side, tid))
        # A frame is meant to be in time order; make sure (stable, so ties keep theirs).
        parsed.sort(key=lambda x: x[0])
        seen, order, last = self._seen_tids, self._tid_order, self.last_ts_ns
        for ts, ci, px, sz, side, tid in parsed:
            if tid in seen:
                st.skipped += 1
                continue
            if self.drop_stale_trades and ts < last[ci]:
                st.stale_trades += 1
                continue
            seen.add(tid)
            order.append(tid)
            if len(order) > TID_MEMORY:
                seen.discard(order.popleft())
            self.md.trade(ci, ts, recv, 0, px, sz, side, tid)
            if ts > last[ci]:
                last[ci] = ts
        return CH_TRADES

