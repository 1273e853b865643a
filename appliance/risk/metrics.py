"""Prometheus exporter: a collector that reads shared memory at scrape time.

Nothing is copied between scrapes; every value is a consistent (seqlock) read
taken when Prometheus asks. No secret ever lives in shared memory, so none can
leak here.
"""

import json
import math
import time

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from appliance.ipc import ring, seqlock
from appliance.measure.attribution import COMPONENT_LABELS, COMPONENTS
from appliance.runtime import latency
from appliance.runtime.control import heartbeat_age_ms
from shm_layout.constants import (
    LRC_STATE_NAMES,
    MODEL_NAMES,
    N_CHILDREN,
    PROC_NAMES,
    PROC_QUOTE,
    SCORE_METRIC_NAMES,
)


def _num(x) -> float:
    x = float(x)
    return x if math.isfinite(x) else math.nan


class ApplianceCollector:
    def __init__(self, mem, coins, gateway_stats_path=None):
        self.mem = mem
        self.coins = coins
        self.gateway_stats_path = gateway_stats_path  # the Hyperliquid gateway's status file

    def collect(self):
        mem, coins = self.mem, self.coins
        g = {
            name: GaugeMetricFamily(name, doc, labels=["coin"])
            for name, doc in (
                ("mm_spread_bps", "quoted half-spread of the current ladder, bps"),
                ("mm_market_spread_bps", "market bid-ask spread, bps"),
                ("mm_position", "position, coin units"),
                ("mm_daily_pnl", "PnL since start of day, USD (realized + unrealized - fees)"),
                ("mm_sigma", "jump-robust volatility, bps per sqrt(s)"),
                ("mm_kappa", "fill-intensity decay, per bps"),
                ("mm_adverse_selection_bps", "realized adverse selection of our fills at 1 s, bps"),
                ("mm_open_orders", "resting orders"),
                ("mm_ladder_pulled", "1 when the ladder is pulled"),
                ("mm_reducing_side_only", "1 while the rate budget allows the reducing side only"),
            )
        }
        fills = CounterMetricFamily("mm_fills", "our fills", labels=["coin"])
        for c, coin in enumerate(coins):
            p, _ = seqlock.snapshot(mem.params, c, max_tries=100_000)
            lad, _ = seqlock.snapshot(mem.ladder, c, max_tries=100_000)
            pos, _ = seqlock.snapshot(mem.position, c, max_tries=100_000)
            g["mm_spread_bps"].add_metric([coin], _num(lad["half_spread_bps"]))
            g["mm_market_spread_bps"].add_metric([coin], _num(p["spread_bps"]))
            g["mm_position"].add_metric([coin], _num(pos["position_sz"]))
            g["mm_daily_pnl"].add_metric([coin], _num(pos["total_pnl_usd"]))
            g["mm_sigma"].add_metric([coin], _num(p["sigma_clean_bps_per_sqrt_s"]))
            g["mm_kappa"].add_metric([coin], _num(p["kappa_per_bps"]))
            g["mm_adverse_selection_bps"].add_metric([coin], _num(p["adverse_selection_bps"]))
            g["mm_open_orders"].add_metric([coin], float(pos["n_open_bids"] + pos["n_open_asks"]))
            g["mm_ladder_pulled"].add_metric([coin], float(lad["pulled_reason"] != 0))
            g["mm_reducing_side_only"].add_metric([coin], float(pos["reducing_only"]))
            fills.add_metric([coin], float(pos["n_fills"]))
        yield from g.values()
        yield fills
        yield from self._attribution()

        control = mem.control.records[0]
        now = time.monotonic_ns()
        hb = GaugeMetricFamily("mm_heartbeat_age_seconds", "age of each process heartbeat",
                               labels=["process"])
        restarts = CounterMetricFamily("mm_restarts", "restarts by the supervisor",
                                       labels=["process"])
        lag = GaugeMetricFamily("mm_ring_lag", "events published but not yet read",
                                labels=["ring", "process"])
        lost = CounterMetricFamily("mm_ring_lost", "events lost to a lapped reader",
                                   labels=["ring", "process"])
        md_head = int(ring.head(mem.md.ring_words))
        fl_head = int(ring.head(mem.fills.ring_words))
        for p in range(N_CHILDREN):
            slot = control["procs"][p]
            name = PROC_NAMES[p]
            age = heartbeat_age_ms(slot, now)
            hb.add_metric([name], math.nan if age is None else age / 1e3)
            restarts.add_metric([name], float(slot["restarts"]))
            if slot["md_cursor"] > 0:
                lag.add_metric(["md", name], float(md_head - slot["md_cursor"] + 1))
                lost.add_metric(["md", name], float(slot["md_lost"]))
            if slot["fills_cursor"] > 0:
                lag.add_metric(["fills", name], float(fl_head - slot["fills_cursor"] + 1))
                lost.add_metric(["fills", name], float(slot["fills_lost"]))
        yield hb
        yield restarts
        yield lag
        yield lost
        kill = GaugeMetricFamily("mm_kill_active", "1 while the kill flag is up")
        kill.add_metric([], float(control["kill_flag"]))
        yield kill
        ra = GaugeMetricFamily("mm_risk_action", "graded risk action in force: 0 none, 1 widen, "
                               "2 reduce_only, 3 pull", labels=["check"])
        ra.add_metric([control["risk_action_check"].decode(errors="replace")], float(control["risk_action"]))
        yield ra
        lrc = GaugeMetricFamily("mm_last_resort_canceller_state",
                                "1 for the canceller's current state (idle, cancelling, verified, "
                                "failed, off)", labels=["state"])
        cur = int(control["canceller_state"])
        for i, name in enumerate(LRC_STATE_NAMES):
            lrc.add_metric([name], float(i == cur))
        yield lrc
        lrc_n = CounterMetricFamily("mm_last_resort_cancelled",
                                    "orders cancelled by the last-resort canceller")
        lrc_n.add_metric([], float(control["canceller_cancelled"]))
        yield lrc_n
        q50, q99 = latency.quantiles(control["procs"][PROC_QUOTE]["lat_hist"])
        lat = GaugeMetricFamily("mm_event_to_ladder_seconds", "feed publish to ladder publish",
                                labels=["quantile"])
        lat.add_metric(["0.5"], math.nan if q50 is None else q50 / 1e9)
        lat.add_metric(["0.99"], math.nan if q99 is None else q99 / 1e9)
        yield lat
        # from the control block: gateway.json cannot be written on the full disk it reports
        je = CounterMetricFamily("mm_gateway_journal_errors",
                                 "gateway journal operations that failed (disk full, read-only)")
        je.add_metric([], float(control["gw_journal_errors"]))
        yield je
        yield from self._scores()
        yield from self._gateway()

    def _attribution(self):
        """The session's P&L by component (risk/attribution.py), per coin once it started."""
        mem = self.mem
        comp = GaugeMetricFamily("mm_pnl_component_usd", "session P&L by component, USD (spread, "
                                 "adverse_selection, inventory, funding, fees: they sum to "
                                 "mm_pnl_session_usd less adjustments)", labels=["component", "coin"])
        sess = GaugeMetricFamily("mm_pnl_session_usd", "P&L since the session started, USD", labels=["coin"])
        res = GaugeMetricFamily("mm_pnl_attribution_residual_usd",
                                "session P&L less components and adjustments, USD (|x| > 0.005: broken)",
                                labels=["coin"])
        adj = GaugeMetricFamily("mm_pnl_adjustment_usd", "P&L of positions adopted or corrected from "
                                "the venue this session, USD", labels=["coin"])
        for c, coin in enumerate(self.coins):
            a, _ = seqlock.snapshot(mem.attrib, c, max_tries=100_000)
            if not a["started"]:
                continue
            for k in COMPONENTS:
                comp.add_metric([COMPONENT_LABELS[k], coin], _num(a[k]))
            sess.add_metric([coin], _num(a["pnl_usd"]))
            res.add_metric([coin], _num(a["residual_usd"]))
            adj.add_metric([coin], _num(a["adjustment_usd"]))
        yield from (comp, sess, res, adj)

    def _scores(self):
        """The model scorer's SCORES block (risk/scoring/): scores, samples, degraded flags."""
        score = GaugeMetricFamily("mm_model_score", "a model's score over the scoring window "
                                  "(appliance/measure/scores.py; mmctl inspect scores)",
                                  labels=["model", "metric", "coin"])
        samples = GaugeMetricFamily("mm_model_samples", "forecast/outcome pairs scored in the window",
                                    labels=["model", "coin"])
        degraded = GaugeMetricFamily("mm_model_degraded", "1 when the model has scored worse than "
                                     "none for scores.degraded_after_s", labels=["model", "coin"])
        for c, coin in enumerate(self.coins):
            rec, seq = seqlock.snapshot(self.mem.scores, c, max_tries=100_000)
            if seq < 0:
                continue
            for m, model in enumerate(MODEL_NAMES[: int(rec["n_models"])]):
                samples.add_metric([model, coin], float(rec["samples"][m]))
                degraded.add_metric([model, coin], float(rec["degraded"][m]))
                for j, metric in enumerate(SCORE_METRIC_NAMES):
                    v = float(rec["value"][m][j])
                    if math.isfinite(v):
                        score.add_metric([model, metric, coin], v)
        yield score
        yield samples
        yield degraded

    def _gateway(self):
        """Hyperliquid client figures from the gateway's status file (absent in paper mode)."""
        if self.gateway_stats_path is None:
            return
        try:
            with open(self.gateway_stats_path, "rb") as f:
                st = json.loads(f.read())
        except (OSError, ValueError):
            return
        dms = GaugeMetricFamily("mm_dead_man_switch_active",
                                "1 while scheduleCancel is kept ahead; 0 when off or refused",
                                labels=["state"])
        dms.add_metric([str(st.get("dead_man_switch", ""))], float(st.get("dead_man_switch") == "active"))
        yield dms
        for key, doc in (("http_429", "HTTP 429 answers"), ("rejects", "orders rejected"),
                         ("alo_rejects", "post-only orders rejected"),
                         ("reconciles", "reconciliations with the venue"),
                         ("position_corrections", "positions corrected to the venue's"),
                         ("fill_duplicates", "duplicate fill reports skipped"),
                         ("illegal_transitions", "illegal order state transitions")):
            c = CounterMetricFamily(f"mm_gateway_{key}", doc)
            c.add_metric([], float(st.get(key) or 0))
            yield c
        den = CounterMetricFamily("mm_pretrade_denials", "orders denied by the gateway's pre-trade gate",
                                  labels=["reason"])
        for reason, n in (st.get("pretrade_denials") or {}).items():
            den.add_metric([str(reason)], float(n))
        yield den
        rb = st.get("rate_budget") or {}
        h = GaugeMetricFamily("mm_rate_headroom", "rate-limit headroom fraction", labels=["limit"])
        h.add_metric(["ip"], float(rb.get("ip_headroom_frac", math.nan)))
        h.add_metric(["address"], float(rb.get("address_headroom_frac", math.nan)))
        yield h


def serve(mem, coins, host: str, port: int, gateway_stats_path=None):
    """Start the exporter thread; returns (server, thread) or None if port is 0."""
    if port == 0:
        return None
    registry = CollectorRegistry()
    registry.register(ApplianceCollector(mem, coins, gateway_stats_path))
    return start_http_server(port, addr=host, registry=registry)
