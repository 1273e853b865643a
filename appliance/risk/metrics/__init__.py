"""The Prometheus exporter of the risk watchdog: a collector that reads shared memory
(and the gateway's status file) at scrape time. Nothing is copied between scrapes;
every value is a consistent (seqlock) read taken when Prometheus asks. No secret ever
lives in shared memory or in ``gateway.json`` (addresses are public), so none can
leak here.

Port. ``risk.metrics_port``, default 9817: in the exporters' range (9100-9999), clear of
the Prometheus server (9090), Pushgateway (9091), Alertmanager (9093) and node exporter
(9100) an operator is likely to run beside us. That range is fully allocated on the
Prometheus wiki, so no choice is free everywhere: each instance on a box needs its own
port, and a taken one is a start error. The supervisor binds it before anything starts
and refuses the start naming the port (``runtime/metrics_socket.py``); the risk
process serves that socket (``server.py``). 0 switches the exporter off.

Instance label. Every sample carries ``mm_instance="<instance>"``. Prometheus sets its
own ``instance`` target label (host:port) at scrape time and would rename an exported
``instance`` to ``exported_instance``; two instances on one box differ in port, so in
``instance`` too, but only ``mm_instance`` says which appliance a series is, survives a
move to another port or box, and needs no relabelling in the scrape config
(``ops/prometheus/prometheus.yml``). A label on every series rather than on one info
metric: alert rules and dashboards group by it without joins.

Names. Prometheus conventions: base units in the name (``_seconds``, ``_usd`` for
money, ``_coins`` for sizes in the coin, ``_ratio`` for shares; ``_bps`` is kept for
spreads and markouts, the unit traders read), ``_total`` on counters, a ``coin``
label on per-coin series, ``_info`` gauges (value 1) for labels that describe. The
event -> ladder and tick -> wire latencies are histograms built from the
shared-memory buckets (``families.latency_histogram``). The families, by source:

* ``processes``: process health, rings, kill flag (``mm_kill_info`` carries the
  reason), risk action, canceller, clock, market data age, feed websocket, latency;
* ``coins``: market, quotes, position and limit, orders, fills, volume, margin;
* ``pnl``: books, the account's session / UTC-day / drawdown figures with their
  limits, the attribution;
* ``scores``: the live model scores;
* ``gateway``: the Hyperliquid gateway's counters, orders sent per coin, rate budget;
* ``recorder``: the recorder's health (``mm_recorder_ok``), rows and bytes written,
  rows dropped (a full disk), ring events lost (only when ``[recorder] enabled``);
* ``collector``: ``mm_build_info`` and the instance label.
"""

from .collector import ApplianceCollector
from .families import INSTANCE_LABEL
from .server import serve

__all__ = ["INSTANCE_LABEL", "ApplianceCollector", "serve"]
