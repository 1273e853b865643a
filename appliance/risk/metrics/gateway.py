"""Hyperliquid gateway families, from its status file ``gateway.json`` (written every
second by the gateway; absent in paper mode, so these families are too)."""

from __future__ import annotations

import json
import math
import time

from .families import counter, gauge

# gateway.json key -> (family, help); counters of the whole gateway
GATEWAY_COUNTERS = (
    ("http_429", "mm_gateway_http_429_total", "HTTP 429 answers from the venue"),
    ("alo_rejects", "mm_gateway_alo_rejects_total", "post-only orders and modifies rejected"),
    ("reconciles", "mm_gateway_reconciles_total", "reconciliations with the venue"),
    ("position_corrections", "mm_gateway_position_corrections_total", "positions corrected to the venue's"),
    ("fill_duplicates", "mm_gateway_fill_duplicates_total", "duplicate fill reports skipped"),
    ("modify_gone", "mm_gateway_modifies_refused_total",
     "modifies the venue refused (the order was gone, or post-only)"),
    ("illegal_transitions", "mm_gateway_illegal_transitions_total", "illegal order state transitions"),
    ("transport_reconnects", "mm_gateway_transport_connects_total",
     "connections the gateway's transport to the venue opened (HTTP keep-alive or websocket post)"),
)
# sent_by_coin key -> action label of mm_orders_sent_total
SENT_ACTIONS = (("place", "place"), ("modify", "modify"), ("cancel", "cancel"))


def read_status(path) -> dict | None:
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def collect_gateway(path):
    st = read_status(path) if path is not None else None
    if st is None:
        return
    age = gauge("mm_gateway_status_age_seconds", "age of gateway.json (these families are as old)")
    ts = st.get("ts_ns") or 0
    age.add_metric([], (time.time_ns() - ts) / 1e9 if ts else math.nan)
    yield age
    dms = gauge("mm_dead_man_switch_active", "1 while scheduleCancel is kept ahead; 0 when off or "
                "refused", ["state"])
    dms.add_metric([str(st.get("dead_man_switch", ""))], float(st.get("dead_man_switch") == "active"))
    yield dms
    for key, name, doc in GATEWAY_COUNTERS:
        c = counter(name, doc)
        c.add_metric([], float(st.get(key) or 0))
        yield c
    sent = counter("mm_orders_sent_total", "requests sent to the venue per order: place, modify, "
                   "cancel", ["coin", "action"])
    rej = counter("mm_orders_rejected_total", "new orders the venue rejected "
                  "(refused modifies: mm_gateway_modifies_refused_total)", ["coin"])
    for coin, d in (st.get("sent_by_coin") or {}).items():
        for key, action in SENT_ACTIONS:
            sent.add_metric([str(coin), action], float(d.get(key) or 0))
        rej.add_metric([str(coin)], float(d.get("reject") or 0))
    yield from (sent, rej)
    den = counter("mm_pretrade_denials_total", "orders denied by the gateway's pre-trade gate", ["reason"])
    for reason, n in (st.get("pretrade_denials") or {}).items():
        den.add_metric([str(reason)], float(n))
    yield den
    rb = st.get("rate_budget") or {}
    h = gauge("mm_rate_limit_headroom_ratio", "rate-limit budget left, share of the cap "
              "(NaN: not known yet)", ["limit"])
    for label, key in (("ip", "ip_headroom_frac"), ("address", "address_headroom_frac")):
        v = rb.get(key)
        h.add_metric([label], float(v) if isinstance(v, int | float) else math.nan)
    yield h
