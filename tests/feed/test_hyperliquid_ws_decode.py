"""The Hyperliquid frame decoder: market frames -> MD_EVENT, user frames ->
USER_EVENT, and no input that crashes it."""

from __future__ import annotations

import numpy as np
import orjson
from hl_ws_helpers import need_capture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.feed.events import SourceStats
from appliance.feed.hyperliquid_ws.decode import (
    CH_ASSET_CTX,
    CH_BBO,
    CH_ERROR,
    CH_HELLO,
    CH_MALFORMED,
    CH_USER,
    HlDecoder,
    ReusableEventWriter,
    UserEventWriter,
    cloid_bytes,
    cloid_str,
)
from appliance.feed.sources.hyperliquid_replay import HyperliquidReplaySource
from shm_layout.constants import (
    COIN_UNKNOWN,
    EV_ASSET_CTX,
    EV_BBO,
    FILL_DIR_CODE,
    ORDER_STATUS_CODE,
    UE_FILL,
    UE_FUNDING,
    UE_LIQUIDATION,
    UE_NON_USER_CANCEL,
    UE_ORDER,
    UF_HAS_CLOID,
    UF_HAS_HASH,
    order_status_is_cancel,
    order_status_is_reject,
)
from shm_layout.records import MD_EVENT

COINS = ("BTC", "ETH")
USER = "0x" + "ab" * 20
CLOID = "0x000000000000000000000000000000ff"
HASH = "0x" + "12" * 32


class _Out:
    def __init__(self) -> None:
        self.md: list[np.ndarray] = []
        self.user: list[np.ndarray] = []

    def md_sink(self, buf, n):
        self.md.append(buf[:n].copy())

    def user_sink(self, buf, n):
        self.user.append(buf[:n].copy())


def _decoder(buf_events: int = 4) -> tuple[HlDecoder, _Out]:
    out = _Out()
    st_ = SourceStats()
    md = ReusableEventWriter(buf_events, st_, out.md_sink)
    user = UserEventWriter(buf_events, out.user_sink)
    return HlDecoder(COINS, md, user, st_), out


def _feed(dec: HlDecoder, frame, recv_ns: int = 1_700_000_000_000_000_000) -> int:
    body = frame if isinstance(frame, (bytes, str)) else orjson.dumps(frame)
    ch = dec.feed(body, recv_ns)
    dec.md.commit()
    dec.user.commit()
    return ch


def _fill(**kw) -> dict:
    f = {"coin": "BTC", "px": "105000.5", "sz": "0.01", "side": "B", "time": 1737918843542,
         "startPosition": "-0.02", "dir": "Close Short", "closedPnl": "1.25", "hash": HASH,
         "oid": 77, "crossed": False, "fee": "-0.0021", "tid": 123456789, "feeToken": "USDC",
         "cloid": CLOID}
    f.update(kw)
    return f


def test_decoder_when_capture_frames_then_same_events_as_replay_with_reused_small_buffer():
    path = need_capture()
    ref = np.concatenate(list(HyperliquidReplaySource(path, ["BTC"]).chunks()))
    out = _Out()
    st_ = SourceStats()
    dec = HlDecoder(["BTC"], ReusableEventWriter(7, st_, out.md_sink), None, st_)
    with_recv = [(int(ln.split(b" ", 1)[0]), ln.split(b" ", 1)[1])
                 for ln in capture_frames_with_ts(path)]
    for recv, body in with_recv:
        dec.feed(body, recv)
        dec.md.commit()
    live = np.concatenate(out.md)
    assert len(live) == len(ref)
    for name in ref.dtype.names:
        assert np.array_equal(live[name], ref[name]), name
    assert st_.stale_trades == 30 and st_.malformed == 0


def capture_frames_with_ts(path) -> list[bytes]:
    import gzip

    with gzip.open(path, "rb") as f:
        return [ln.strip() for ln in f if ln.strip()]


def test_decoder_when_user_fills_snapshot_then_fill_events_with_all_fields():
    dec, out = _decoder()
    frame = {"channel": "userFills",
             "data": {"user": USER, "isSnapshot": True,
                      "fills": [_fill(), _fill(tid=2, coin="SOL", side="A", crossed=True)]}}
    assert _feed(dec, frame, 5) == CH_USER
    ue = np.concatenate(out.user)
    assert list(ue["kind"]) == [UE_FILL, UE_FILL]
    a, b = ue
    assert a["coin"] == 0 and a["side"] == 1 and a["px"] == 105000.5 and a["sz"] == 0.01
    assert a["fee"] == -0.0021 and a["start_position"] == -0.02 and a["closed_pnl"] == 1.25
    assert a["oid"] == 77 and a["tid"] == 123456789 and a["time_ms"] == 1737918843542
    assert a["is_snapshot"] == 1 and a["crossed"] == 0 and a["recv_ts_ns"] == 5
    assert a["dir"] == FILL_DIR_CODE["Close Short"]
    assert a["flags"] & UF_HAS_CLOID and a["flags"] & UF_HAS_HASH
    assert cloid_str(a["cloid"]) == CLOID and bytes(a["hash"]).hex() == "12" * 32
    assert b["coin"] == COIN_UNKNOWN and b["side"] == -1 and b["crossed"] == 1


def test_decoder_when_user_channel_shapes_then_fill_funding_liquidation_and_cancels():
    dec, out = _decoder()
    _feed(dec, {"channel": "user", "data": {"fills": [_fill(cloid=None)]}})
    _feed(dec, {"channel": "user", "data": {"funding": {"coin": "ETH", "usdc": "-0.5", "szi": "2.0",
                                                        "fundingRate": "0.0000125", "nSamples": 1}}})
    _feed(dec, {"channel": "user", "data": {"liquidation": {
        "lid": 9, "liquidator": USER, "liquidated_user": USER, "liquidated_ntl_pos": "1000.0",
        "liquidated_account_value": "50.0"}}})
    _feed(dec, {"channel": "user", "data": {"nonUserCancel": [{"coin": "BTC", "oid": 5},
                                                              {"coin": "ETH", "oid": 6}]}})
    _feed(dec, {"channel": "userFundings", "data": {"user": USER, "isSnapshot": True, "fundings": [
        {"time": 1737918000000, "coin": "BTC", "usdc": "0.1", "szi": "-1", "fundingRate": "0.00001",
         "nSamples": 60}]}})
    ue = np.concatenate(out.user)
    assert list(ue["kind"]) == [UE_FILL, UE_FUNDING, UE_LIQUIDATION, UE_NON_USER_CANCEL,
                                UE_NON_USER_CANCEL, UE_FUNDING]
    assert ue[0]["is_snapshot"] == 0 and not ue[0]["flags"] & UF_HAS_CLOID
    assert ue[1]["coin"] == 1 and ue[1]["usdc"] == -0.5 and ue[1]["szi"] == 2.0
    assert ue[1]["funding_rate"] == 0.0000125 and ue[1]["time_ms"] == 0
    assert ue[2]["tid"] == 9 and ue[2]["sz"] == 1000.0 and ue[2]["usdc"] == 50.0
    assert list(ue["oid"][3:5]) == [5, 6] and list(ue["coin"][3:5]) == [0, 1]
    assert ue[5]["is_snapshot"] == 1 and ue[5]["time_ms"] == 1737918000000 and ue[5]["tid"] == 60


def test_decoder_when_order_updates_then_status_codes_and_cloid():
    dec, out = _decoder()
    ups = [{"order": {"coin": "BTC", "side": "A", "limitPx": "105100.0", "sz": "0.0", "oid": 11,
                      "timestamp": 1737918843000, "origSz": "0.02", "cloid": CLOID},
            "status": s, "statusTimestamp": 1737918843999}
           for s in ("open", "filled", "canceled", "badAloPxRejected", "scheduledCancel", "brandNew")]
    _feed(dec, {"channel": "orderUpdates", "data": ups})
    ue = np.concatenate(out.user)
    assert (ue["kind"] == UE_ORDER).all() and (ue["oid"] == 11).all() and (ue["side"] == -1).all()
    codes = list(ue["status"])
    assert codes[:5] == [ORDER_STATUS_CODE[s] for s in
                         ("open", "filled", "canceled", "badAloPxRejected", "scheduledCancel")]
    assert codes[5] == 0, "an unknown status string maps to 'unknown', not a crash"
    assert order_status_is_cancel(codes[2]) and order_status_is_cancel(codes[4])
    assert order_status_is_reject(codes[3]) and not order_status_is_reject(codes[2])
    assert ue[0]["orig_sz"] == 0.02 and ue[0]["px"] == 105100.0
    assert bytes(ue[0]["cloid"]) == cloid_bytes(CLOID)


def test_decoder_when_bbo_ctx_hello_and_error_then_events_and_counters():
    dec, out = _decoder()
    assert _feed(dec, b"Websocket connection established.") == CH_HELLO
    lv = {"px": "100.5", "sz": "3", "n": 2}
    assert _feed(dec, {"channel": "bbo", "data": {"coin": "ETH", "time": 1737918843542,
                                                  "bbo": [lv, {"px": "100.6", "sz": "1", "n": 1}]}}) == CH_BBO
    ctx = {"funding": "0.0000125", "openInterest": "1234.5", "oraclePx": "100.4", "markPx": "100.55",
           "midPx": None, "impactPxs": None, "premium": None, "prevDayPx": "99", "dayNtlVlm": "1",
           "dayBaseVlm": "1"}
    assert _feed(dec, {"channel": "activeAssetCtx", "data": {"coin": "ETH", "ctx": ctx}}, 7) == CH_ASSET_CTX
    assert _feed(dec, {"channel": "error", "data": "Error parsing JSON"}) == CH_ERROR
    ev = np.concatenate(out.md)
    assert list(ev["kind"]) == [EV_BBO, EV_ASSET_CTX]
    assert ev[0]["coin"] == 1 and ev[0]["lv"]["bid_px"][0] == 100.5 and ev[0]["lv"]["ask_sz"][0] == 1.0
    c = ev[1]
    assert c["px"] == 100.55 and c["sz"] == 1234.5 and c["aux0"] == 0.0000125 and c["aux1"] == 100.4
    assert c["recv_ts_ns"] == 7 and c["exch_ts_ns"] >= 7
    assert dec.errors == 1 and dec.last_error == "Error parsing JSON"


# --- fuzz ---------------------------------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                     st.sampled_from(["B", "A", "1e999", "-0", "nan", "105000.0", "0x" + "f" * 33,
                                      CLOID, "BTC", "ETH"]))
_json = st.recursive(_scalars, lambda ch: st.one_of(
    st.lists(ch, max_size=4), st.dictionaries(st.sampled_from(
        ["coin", "px", "sz", "n", "time", "levels", "bbo", "side", "tid", "fills", "oid", "order",
         "status", "ctx", "funding", "markPx", "oraclePx", "openInterest", "hash", "cloid",
         "isSnapshot", "fundings", "liquidation", "nonUserCancel", "usdc", "szi", "fundingRate",
         "lid", "limitPx", "origSz", "x"]), ch, max_size=6)), max_leaves=25)
_channels = st.sampled_from(["l2Book", "trades", "bbo", "activeAssetCtx", "userFills", "user",
                             "orderUpdates", "userFundings", "error", "pong", "post",
                             "subscriptionResponse", "weird"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(channel=_channels, data=_json)
def test_decoder_when_fuzzed_frames_then_never_raises(channel, data):
    dec, _ = _decoder(buf_events=2)
    frame = {"channel": channel, "data": data}
    body = orjson.dumps(frame) if _dumpable(frame) else b"{}"  # ints beyond 64 bits
    before = dec.stats.malformed
    ch = _feed(dec, body)
    assert isinstance(ch, int)
    assert dec.stats.malformed >= before


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200))
def test_decoder_when_random_bytes_then_counted_malformed_or_skipped(raw):
    dec, _ = _decoder()
    ch = _feed(dec, raw)
    if ch == CH_MALFORMED:
        assert dec.stats.malformed == 1


def _dumpable(x) -> bool:
    try:
        orjson.dumps(x)
        return True
    except (TypeError, orjson.JSONEncodeError):
        return False


@settings(max_examples=200, deadline=None)
@given(px=st.text(max_size=8), sz=st.one_of(st.text(max_size=8), st.integers(-2**63, 2**63 - 1)),
       n=st.one_of(st.integers(-2**40, 2**40), st.text(max_size=3)), t=st.integers(-5, 2**63 - 1))
def test_decoder_when_fuzzed_book_levels_then_event_only_if_every_field_valid(px, sz, n, t):
    dec, out = _decoder()
    lv = {"px": px, "sz": sz, "n": n}
    _feed(dec, {"channel": "l2Book", "data": {"coin": "BTC", "time": t, "levels": [[lv], [lv]]}})
    events = sum(len(a) for a in out.md)
    assert events + dec.stats.malformed == 1
    if events:
        ev = out.md[0][0]
        assert ev["lv"]["bid_px"][0] > 0 and np.isfinite(ev["lv"]["bid_px"][0]) and ev["lv"]["bid_sz"][0] >= 0


# --- the numba l2Book fast path decodes exactly like the orjson path ----------------


def _decode_all(frames: list[bytes], fast: bool, coins=("BTC",)) -> tuple[np.ndarray, SourceStats]:
    out = _Out()
    st_ = SourceStats()
    dec = HlDecoder(coins, ReusableEventWriter(8, st_, out.md_sink), None, st_, fast_books=fast)
    for k, body in enumerate(frames):
        dec.feed(body, 1_000 + k)
        dec.md.commit()
    ev = np.concatenate(out.md) if out.md else np.zeros(0, MD_EVENT)
    return ev, st_


def _l2_frames() -> list[bytes]:
    path = need_capture()
    return [ln.split(b" ", 1)[1] for ln in capture_frames_with_ts(path) if b'"l2Book"' in ln]


def _assert_same(a, b):
    (ea, sa), (eb, sb) = a, b
    assert len(ea) == len(eb) and sa.malformed == sb.malformed and sa.skipped == sb.skipped
    for name in ea.dtype.names:
        assert np.array_equal(ea[name], eb[name]), name


def test_fast_book_when_capture_frames_then_identical_to_orjson_path():
    frames = _l2_frames()
    _assert_same(_decode_all(frames, True), _decode_all(frames, False))
    _assert_same(_decode_all(frames, True, coins=("ETH",)), _decode_all(frames, False, ("ETH",)))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_fast_book_when_mutated_real_frames_then_identical_to_orjson_path(data):
    frames = _l2_frames()
    body = bytearray(data.draw(st.sampled_from(frames)))
    op = data.draw(st.sampled_from(["cut", "flip", "insert", "delete"]))
    i = data.draw(st.integers(0, len(body) - 1))
    if op == "cut":
        body = body[:i]
    elif op == "flip":
        body[i] = data.draw(st.sampled_from(b'0123456789.,:"{}[]-e x'))
    elif op == "insert":
        body[i:i] = data.draw(st.binary(min_size=1, max_size=4))
    else:
        del body[i : i + data.draw(st.integers(1, 8))]
    fr = [bytes(body), frames[0]]  # and a good frame after it: the slot is clean
    _assert_same(_decode_all(fr, True), _decode_all(fr, False))
