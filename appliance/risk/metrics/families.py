"""Building blocks of the exporter's families: gauges, counters, histograms from the
shared-memory latency buckets, and the instance label put on every sample."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from shm_layout.constants import LAT_BUCKETS, LAT_BUCKETS_PER_OCTAVE

INSTANCE_LABEL = "mm_instance"  # not "instance": Prometheus sets that one to host:port

# Histogram bounds: every octave from 2^10 ns (1.02 µs) to 2^35 ns (34.4 s). They are
# boundaries of the shared-memory buckets (runtime/latency.py: 4 per octave), so every
# cumulative count is exact; 26 bounds keep histogram_quantile within a factor of 2.
LE_OCTAVES = tuple(range(10, 36))
_MID_NS = 2.0 ** ((np.arange(LAT_BUCKETS) + 0.5) / LAT_BUCKETS_PER_OCTAVE)


def num(x) -> float:
    """A float for a sample; NaN for what is not finite (Prometheus shows it as such)."""
    x = float(x)
    return x if math.isfinite(x) else math.nan


def gauge(name: str, doc: str, labels: Sequence[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def counter(name: str, doc: str, labels: Sequence[str] = ()) -> CounterMetricFamily:
    """``name`` ends in ``_total`` (the exposition keeps it once)."""
    return CounterMetricFamily(name, doc, labels=list(labels))


def latency_histogram(name: str, doc: str, label_names: Sequence[str],
                      rows: Iterable[tuple[Sequence[str], np.ndarray]]) -> HistogramMetricFamily:
    """A histogram in seconds from control-slot bucket arrays (``lat_hist``), one per
    label set. The counts are cumulative since the process slot was created, as a
    Prometheus histogram's are: rate() over them gives any window. ``_sum`` is estimated
    from each bucket's geometric midpoint (within 9 %: the buckets hold no sum)."""
    fam = HistogramMetricFamily(name, doc, labels=list(label_names))
    for labels, hist in rows:
        counts = np.asarray(hist, dtype=np.float64)
        cum = np.cumsum(counts)
        buckets = [(floatToGoString(2.0**k / 1e9), float(cum[k * LAT_BUCKETS_PER_OCTAVE - 1]))
                   for k in LE_OCTAVES]
        buckets.append(("+Inf", float(cum[-1])))
        fam.add_metric(list(labels), buckets, float((counts * _MID_NS).sum()) / 1e9)
    return fam


def with_instance(fam: Metric, instance: str) -> Metric:
    """``fam`` with ``mm_instance="<instance>"`` on every sample."""
    fam.samples = [s._replace(labels={INSTANCE_LABEL: instance, **s.labels}) for s in fam.samples]
    return fam
