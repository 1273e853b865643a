"""The feed process in live mode (gateway.venue = "hyperliquid"): the websocket
client on its own thread, market channels into the md ring, user channels into
the user ring (fills, order updates, fundings, and a UE_RESYNC on every
(re)connection, which tells the gateway to reconcile).

The client stamps each frame with its receive time (CLOCK_REALTIME) before
decoding; the ring sinks stamp ``pub_mono_ns`` and ring the readers' doorbells
(the estimator for md, the gateway for user events: the gateway is no longer woken by
market events it does not read). After ``feed.ws_max_failures``
failed connections in a row the client gives up and this process raises the
kill flag (the gateway then cancels everything it can reach).
"""

from __future__ import annotations

from appliance.feed.hyperliquid_ws.client import ST_FATAL, HlWsClient, WsClientConfig
from appliance.feed.hyperliquid_ws.sinks import RingSink
from appliance.hyperliquid import venue_access
from appliance.runtime.context import ProcessContext
from appliance.runtime.waiting import Doorbells
from shm_layout.constants import PROC_ESTIMATOR, PROC_GATEWAY


def client_config(ctx: ProcessContext) -> WsClientConfig:
    cfg = ctx.cfg
    url = venue_access.ws_url(venue_access.api_url(cfg, ctx.instance))
    user = venue_access.account_address(cfg, ctx.instance)
    f = cfg.feed
    return WsClientConfig(url=url, coins=tuple(cfg.appliance.coins), user=user,
                          ping_idle_s=f.ws_ping_idle_s, stale_after_s=f.ws_stale_after_s,
                          max_failures=f.ws_max_failures, backoff_cap_s=f.ws_backoff_cap_s,
                          backoff_base_s=min(0.5, f.ws_backoff_cap_s))


def run_live(ctx: ProcessContext) -> int:
    try:
        wcfg = client_config(ctx)
    except Exception as e:  # noqa: BLE001 - a missing key/URL is a clear start-up error
        ctx.log.error("cannot configure the Hyperliquid websocket: %s", e)
        ctx.kill(f"feed: {e}"[:120])
        return 2
    # Each ring's readers are rung by its sink when the client thread publishes; the loop
    # below only counts (it sleeps on a timer: its ring came up to a sleep late).
    procs = ctx.control["procs"]
    md_sink = RingSink(ctx.mem.md, Doorbells(ctx.instance, procs, (PROC_ESTIMATOR,)).ring)
    user_sink = RingSink(ctx.mem.user_ring, Doorbells(ctx.instance, procs, (PROC_GATEWAY,)).ring)
    ctx.bells = Doorbells(ctx.instance, procs, ())
    client = HlWsClient(wcfg, md_sink, user_sink)
    ctx.log.info("live feed: %s, coins %s, user %s", wcfg.url, ",".join(wcfg.coins), wcfg.user)
    client.start()
    seen = {"md": 0, "user": 0, "malformed": 0, "fatal": False}

    def step() -> int:
        n = (md_sink.published - seen["md"]) + (user_sink.published - seen["user"])
        seen["md"], seen["user"] = md_sink.published, user_sink.published
        st = client.stats
        ctx.control["feed_ws_connects"] = st.connects  # for the metrics (reconnects)
        ctx.control["feed_ws_drops"] = st.drops
        bad = st.market.malformed
        if bad > seen["malformed"]:
            ctx.count_error(bad - seen["malformed"])
            seen["malformed"] = bad
        if client.state == ST_FATAL and not seen["fatal"]:
            seen["fatal"] = True
            ctx.kill(f"feed: websocket gave up: {st.last_reason}"[:120])
        return n

    try:
        return ctx.run(step)
    finally:
        client.stop()
