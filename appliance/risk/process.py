"""The risk watchdog: every ``check_interval_ms`` it runs the checks (checks.py) and
acts on what fired (actions.py: kill flag or graded action), then scores the models
(scoring/) and attributes the P&L (attribution.py); serves the Prometheus metrics.

The loop is ``step``: one cycle of checks and actions per interval, whatever the
kill flag says (the baselines, the fills cursor and the journal keep going while
it is up). Further duties of the watchdog go in ``step`` after ``engine.apply``.
"""

import logging
import time

from appliance.config import kill_switch_path
from appliance.config.state_files import gateway_stats_path
from appliance.runtime.context import ProcessContext
from appliance.runtime.control import pid_alive
from appliance.runtime.metrics_socket import MetricsPortError

from . import checks, metrics
from .actions import ActionEngine
from .attribution import LiveAttribution
from .attribution import journal_path as attribution_journal_path
from .canceller import LastResortCanceller
from .journal import RiskJournal, journal_path
from .position_log import PositionLog
from .recorder import Recorder
from .scoring.scorer import GuardedScorer, ModelScorer


def _serve_metrics(ctx: ProcessContext, recorder: Recorder | None = None) -> None:
    """Serve the exporter on the socket the supervisor bound (a taken port has already
    refused the start there). Started by hand, the process binds it here, and a taken
    port raises MetricsPortError: the process stops, naming the port."""
    r = ctx.cfg.risk
    gw = gateway_stats_path(ctx.cfg, ctx.instance) if ctx.cfg.gateway.venue == "hyperliquid" else None
    served = metrics.serve(metrics.ApplianceCollector(ctx.mem, ctx.cfg, ctx.instance, gw,
                                                      recorder.status if recorder else None),
                           r.metrics_host, r.metrics_port)
    if served is not None:
        host, port = served[0].socket.getsockname()[:2]
        ctx.log.info("metrics on http://%s:%d/metrics", host, port)


ATTRIBUTION_LOG_EVERY_S = 60.0


def _attribute(ctx: ProcessContext, attribution: LiveAttribution, view, last_log: list) -> None:
    """One cycle of P&L attribution; a failure is logged (at most once a minute) and
    counted, never fatal: measuring must not stop the watchdog."""
    try:
        attribution.step(view)
    except Exception:
        ctx.count_error()
        if time.monotonic() - last_log[0] >= ATTRIBUTION_LOG_EVERY_S:
            last_log[0] = time.monotonic()
            logging.getLogger("risk").exception("P&L attribution failed this cycle")


def main(argv=None) -> int:
    ctx = ProcessContext("risk", argv, timer_driven=True)
    view = checks.RiskView(ctx.cfg, ctx.mem, str(kill_switch_path(ctx.cfg, ctx.instance)),
                           time.monotonic_ns())
    journal = RiskJournal(journal_path(ctx.cfg, ctx.instance), on_error=ctx.count_error)
    engine = ActionEngine(ctx.cfg, ctx.control, journal)
    attribution = LiveAttribution(ctx.cfg, ctx.mem, attribution_journal_path(ctx.cfg, ctx.instance),
                                  on_error=ctx.count_error)
    attribution_log = [-ATTRIBUTION_LOG_EVERY_S]
    if ctx.cfg.risk.disabled_checks:
        ctx.log.warning("risk checks DISABLED by config: %s", ", ".join(ctx.cfg.risk.disabled_checks))
    # The recorder (recorder.py): a thread with its own ring cursors, off the checks' path.
    recorder = Recorder(ctx.cfg, ctx.instance, ctx.mem, ctx.count_error) if ctx.cfg.recorder.enabled else None
    try:
        _serve_metrics(ctx, recorder)
    except MetricsPortError as e:
        ctx.log.error("%s", e)
        return 2
    position_log = PositionLog(ctx.cfg.appliance.coins, ctx.cfg.logs.position_every_s)
    interval_ns = ctx.cfg.risk.check_interval_ms * 1_000_000
    next_ns = [0]
    # Live model scores (scoring/): after the checks, on the params they just read; a
    # failure in scoring is counted and logged, never raised (GuardedScorer).
    scorer = GuardedScorer(lambda: ModelScorer(ctx.cfg, ctx.mem, view.params),
                           ctx.count_error) if ctx.cfg.scores.enabled else None

    def step() -> int:
        now = time.monotonic_ns()
        if now < next_ns[0]:
            return 0
        next_ns[0] = now + interval_ns
        found = checks.evaluate(view)
        engine.apply(found, view.events)
        view.events.clear()
        if scorer is not None:
            scorer.step()
        _attribute(ctx, attribution, view, attribution_log)
        position_log.step(view.positions, now)
        return 0

    # The last-resort canceller (canceller.py): its own thread and venue connection.
    canceller = LastResortCanceller(ctx.cfg, ctx.instance, ctx.mem)
    canceller.start()
    if recorder is not None:
        recorder.start()

    def on_exit() -> None:
        if ctx.parent.orphaned() or not pid_alive(int(ctx.control["supervisor_pid"])):
            canceller.final_sweep()  # the supervisor died: leave nothing resting
        else:
            canceller.stop()

    try:
        return ctx.run(step, on_exit=on_exit, summary=lambda: {
            **position_log.summary(view.positions), "kill_reason": str(ctx.control["kill_reason"].decode(
                errors="replace")), "journal_writes": journal.written, "journal_errors": journal.errors})
    finally:
        if recorder is not None:
            recorder.stop()  # writes what is buffered
        journal.close()
        attribution.close()
