"""The risk watchdog: runs the checks every ``check_interval_ms`` and raises the
kill flag on the first reason; serves the Prometheus metrics."""

import time

from appliance.config import kill_switch_path
from appliance.runtime.context import ProcessContext

from . import checks, metrics


def main(argv=None) -> int:
    ctx = ProcessContext("risk", argv, timer_driven=True)
    view = checks.RiskView(ctx.cfg, ctx.mem, str(kill_switch_path(ctx.cfg, ctx.instance)),
                           time.monotonic_ns())
    r = ctx.cfg.risk
    try:
        from appliance.gateway.hl_setup import stats_path

        gw = stats_path(ctx.cfg, ctx.instance) if ctx.cfg.gateway.venue == "hyperliquid" else None
        metrics.serve(ctx.mem, ctx.coins, r.metrics_host, r.metrics_port, gw)
        if r.metrics_port:
            ctx.log.info("metrics on http://%s:%d/metrics", r.metrics_host, r.metrics_port)
    except OSError as e:
        # Metrics are not worth stopping the watchdog for; say so loudly instead.
        ctx.log.error("metrics exporter not started on %s:%d: %s", r.metrics_host,
                      r.metrics_port, e)
        ctx.count_error()
    interval_ns = r.check_interval_ms * 1_000_000
    next_ns = [0]

    def step() -> int:
        now = time.monotonic_ns()
        if now < next_ns[0]:
            return 0
        next_ns[0] = now + interval_ns
        if not ctx.kill_active:
            reason = checks.first_reason(view)
            if reason:
                ctx.kill(reason)
        return 0

    return ctx.run(step)
