"""User channels of the Hyperliquid decoder (``UserFrames``, mixed into ``HlDecoder``):
``userFills`` and ``user`` fills -> UE_FILL, ``orderUpdates`` -> UE_ORDER,
``userFundings`` and ``user`` funding -> UE_FUNDING (the ``user`` copy has no time:
``time_ms`` 0; the gateway pairs the two copies), liquidation, nonUserCancel."""


import numpy as np

from shm_layout.constants import (
    COIN_UNKNOWN,
    FILL_DIR_CODE,
    UE_FILL,
    UE_FUNDING,
    UE_LIQUIDATION,
    UE_NON_USER_CANCEL,
    UE_ORDER,
    UF_HAS_CLOID,
    UF_HAS_HASH,
    UF_LIQUIDATION_FILL,
    order_status_code,
)

from ..events import MalformedFrameError
from .decode_fields import (
    CH_MALFORMED,
    CH_USER,
    _hex_bytes,
    _int63,
    _num,
    _px,
    _side,
    _sz,
    _time_ms,
)


class UserFrames:
    def _user(self, channel: str, data: object, recv: int) -> int:
        if not isinstance(data, (dict, list)):
            self.stats.malformed += 1
            return CH_MALFORMED
        if channel == "userFills":
            snap = 1 if data.get("isSnapshot") else 0  # type: ignore[union-attr]
            self._fills(data["fills"], recv, snap)  # type: ignore[index]
        elif channel == "orderUpdates":
            self._orders(data, recv)
        elif channel == "userFundings":
            snap = 1 if data.get("isSnapshot") else 0  # type: ignore[union-attr]
            for f in data["fundings"]:  # type: ignore[index]
                self._funding(f, recv, snap)
        elif isinstance(data, dict):  # channel "user" (userEvents): one of four shapes
            if "fills" in data:
                self._fills(data["fills"], recv, 0)
            elif "funding" in data:
                self._funding(data["funding"], recv, 0)
            elif "liquidation" in data:
                self._liquidation(data["liquidation"], recv)
            elif "nonUserCancel" in data:
                self._non_user_cancels(data["nonUserCancel"], recv)
            else:
                self.stats.skipped += 1  # twapHistory, twapSliceFills ...
        else:
            self.stats.malformed += 1
            return CH_MALFORMED
        return CH_USER

    def _coin(self, v: object) -> int:
        if not isinstance(v, str):
            raise MalformedFrameError(f"bad coin {v!r}")
        return self.coin_index.get(v, COIN_UNKNOWN)

    def _fills(self, fills: object, recv: int, snap: int) -> None:
        if not isinstance(fills, list):
            raise MalformedFrameError("fills is not a list")
        w = self.user
        for f in fills:
            try:
                coin = self._coin(f["coin"])
                side = _side(f["side"])
                px, sz = _px(f["px"]), _sz(f["sz"])
                fee = _num(f.get("fee", 0.0))
                start = _num(f.get("startPosition", 0.0))
                pnl = _num(f.get("closedPnl", 0.0))
                oid = _int63(f["oid"], "oid")
                tid = _int63(f.get("tid", 0), "tid")
                t = _time_ms(f["time"])
                h = f.get("hash")
                hb = _hex_bytes(h, 32) if h else b""
                c = f.get("cloid")
                cb = _hex_bytes(c, 16) if c else b""
                flags = (UF_HAS_HASH if hb else 0) | (UF_HAS_CLOID if cb else 0)
                if f.get("liquidation"):
                    flags |= UF_LIQUIDATION_FILL
                d = FILL_DIR_CODE.get(f.get("dir", ""), 0)
                crossed = 1 if f.get("crossed") is True else 0
            except (ValueError, KeyError, TypeError, AttributeError):
                self.stats.malformed += 1
                continue
            r = w.slot(UE_FILL, recv)  # type: ignore[union-attr]
            r["coin"], r["side"], r["crossed"], r["is_snapshot"] = coin, side, crossed, snap
            r["dir"], r["flags"], r["time_ms"], r["oid"], r["tid"] = d, flags, t, oid, tid
            r["px"], r["sz"], r["fee"], r["start_position"], r["closed_pnl"] = px, sz, fee, start, pnl
            if hb:
                r["hash"] = np.frombuffer(hb, np.uint8)
            if cb:
                r["cloid"] = np.frombuffer(cb, np.uint8)
            w.advance()  # type: ignore[union-attr]

    def _orders(self, updates: object, recv: int) -> None:
        if not isinstance(updates, list):
            raise MalformedFrameError("orderUpdates is not a list")
        w = self.user
        for u in updates:
            try:
                o = u["order"]
                coin = self._coin(o["coin"])
                side = _side(o["side"])
                px, sz = _px(o["limitPx"]), _sz(o["sz"])
                orig = _sz(o.get("origSz", sz))
                oid = _int63(o["oid"], "oid")
                status = u["status"]
                if not isinstance(status, str):
                    raise MalformedFrameError(f"bad status {status!r}")
                code = order_status_code(status)
                t = _time_ms(u.get("statusTimestamp", o.get("timestamp")))
                c = o.get("cloid")
                cb = _hex_bytes(c, 16) if c else b""
            except (ValueError, KeyError, TypeError, AttributeError):
                self.stats.malformed += 1
                continue
            r = w.slot(UE_ORDER, recv)  # type: ignore[union-attr]
            r["coin"], r["side"], r["status"], r["time_ms"], r["oid"] = coin, side, code, t, oid
            r["px"], r["sz"], r["orig_sz"] = px, sz, orig
            if cb:
                r["cloid"] = np.frombuffer(cb, np.uint8)
                r["flags"] = UF_HAS_CLOID
            w.advance()  # type: ignore[union-attr]

    def _funding(self, f: object, recv: int, snap: int) -> None:
        try:
            coin = self._coin(f["coin"])  # type: ignore[index]
            usdc = _num(f["usdc"])  # type: ignore[index]
            szi = _num(f["szi"])  # type: ignore[index]
            rate = _num(f["fundingRate"])  # type: ignore[index]
            n = f.get("nSamples") or 0  # type: ignore[union-attr]
            n = _int63(n, "nSamples")
            t = f.get("time")  # type: ignore[union-attr]
            t = _time_ms(t) if t is not None else 0  # userEvents funding has no time
        except (ValueError, KeyError, TypeError, AttributeError):
            self.stats.malformed += 1
            return
        r = self.user.slot(UE_FUNDING, recv)  # type: ignore[union-attr]
        r["coin"], r["usdc"], r["szi"], r["funding_rate"] = coin, usdc, szi, rate
        r["tid"], r["time_ms"], r["is_snapshot"] = n, t, snap
        self.user.advance()  # type: ignore[union-attr]

    def _liquidation(self, q: object, recv: int) -> None:
        try:
            lid = _int63(q["lid"], "lid")  # type: ignore[index]
            ntl = _num(q["liquidated_ntl_pos"])  # type: ignore[index]
            value = _num(q["liquidated_account_value"])  # type: ignore[index]
        except (ValueError, KeyError, TypeError, AttributeError):
            self.stats.malformed += 1
            return
        r = self.user.slot(UE_LIQUIDATION, recv)  # type: ignore[union-attr]
        r["coin"], r["tid"], r["sz"], r["usdc"] = COIN_UNKNOWN, lid, ntl, value
        self.user.advance()  # type: ignore[union-attr]

    def _non_user_cancels(self, items: object, recv: int) -> None:
        if not isinstance(items, list):
            raise MalformedFrameError("nonUserCancel is not a list")
        for it in items:
            try:
                coin = self._coin(it["coin"])
                oid = _int63(it["oid"], "oid")
            except (ValueError, KeyError, TypeError, AttributeError):
                self.stats.malformed += 1
                continue
            r = self.user.slot(UE_NON_USER_CANCEL, recv)  # type: ignore[union-attr]
            r["coin"], r["oid"] = coin, oid
            self.user.advance()  # type: ignore[union-attr]


def cloid_bytes(cloid: str) -> bytes:
    """``"0x" + 32 hex`` -> the 16 bytes USER_EVENT.cloid holds."""
    return _hex_bytes(cloid, 16)


def cloid_str(raw: bytes | np.ndarray) -> str:
    """USER_EVENT.cloid bytes -> ``"0x" + 32 hex``."""
    return "0x" + bytes(raw).hex()
