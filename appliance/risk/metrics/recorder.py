"""The recorder's families (appliance/risk/recorder.py), from its live status; absent
when the recorder is off."""

from __future__ import annotations

from .families import counter, gauge

# status key -> (family, help)
RECORDER_COUNTERS = (
    ("rows_written", "mm_recorder_rows_written_total", "rows written to the catalog"),
    ("bytes_written", "mm_recorder_bytes_written_total", "bytes of Parquet files written to the catalog"),
    ("rows_dropped", "mm_recorder_rows_dropped_total",
     "rows that could not be written (full disk, free-space floor, write error)"),
    ("lost_events", "mm_recorder_lost_events_total", "ring events the recorder was lapped over"),
)


def collect_recorder(st: dict):
    ok = gauge("mm_recorder_ok", "1 while the recorder's last write succeeded; 0 after a failed one")
    ok.add_metric([], float(bool(st.get("ok"))))
    yield ok
    for key, name, doc in RECORDER_COUNTERS:
        c = counter(name, doc)
        c.add_metric([], float(st.get(key) or 0))
        yield c
