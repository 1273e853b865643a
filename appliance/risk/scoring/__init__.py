"""Live model scores: every model that predicts, paired with what followed, scored with
``appliance/measure/scores.py`` (the functions the backtest and ``mmctl calibrate`` use).

Why in the risk watchdog: it is off the hot path (a timer-driven loop that already reads
MarketParams every cycle and the fills ring), it owns the graded actions that
``model_degraded`` feeds, and it serves the Prometheus metrics. The gateway only
publishes what it alone knows, each order placement's forecast and fate, on the
ORDER_EVENT ring (``gateway/hyperliquid/order_lifecycle.py``): a 64-byte write per
order event, no scoring work on the order path. The estimator, which also sees every
mid and fill, is a hot-path numba kernel; Python windows and scipy do not belong there.

* ``pairs.py``: forecasts and outcomes paired in bounded windows (pure, tested with
  synthetic inputs);
* ``scorer.py``: the watchdog's duty: reads the rings and MarketParams, schedules the
  scoring a model at a time, tracks degradation, publishes;
* ``block.py``: the SCORES seqlock block as a dict and as text (``mmctl inspect scores``,
  the log line, the metrics); numpy only, so mmctl does not load scipy.
"""
