"""tools/log_volume.py over log files the appliance's own formatter wrote: the window
runs from 'ready: quoting' to the last shutdown line, lines outside it not counted."""

import logging

from appliance.runtime.logs import LineFormatter
from tools.log_volume import volume


def _write(path, process, rows):
    fmt = LineFormatter(process, "t")
    with open(path, "w") as f:
        for created, msg, extra in rows:
            r = logging.LogRecord(process, logging.INFO, __file__, 1, msg, None, None)
            r.created = created
            r.__dict__.update(extra)
            f.write(fmt.format(r) + "\n")


def test_volume_when_lines_span_an_hour_then_per_hour_equals_the_window_s_bytes(tmp_path):
    _write(tmp_path / "supervisor.log", "supervisor", [(1000.0, "starting", {}),
                                                       (1100.0, "ready: quoting BTC after 1 s", {})])
    _write(tmp_path / "gateway.log", "gateway", [(1100.0 + i, "fill", {"event": "fill"}) for i in range(10)]
           + [(4700.0, "exiting", {"event": "shutdown"})])
    v = volume(tmp_path)
    in_window = [ln for p in ("supervisor.log", "gateway.log")
                 for ln in (tmp_path / p).read_bytes().splitlines(keepends=True)][1:]
    assert v["window_s"] == 3600.0 and v["lines"] == 12 == len(in_window)
    assert v["bytes"] == v["bytes_per_hour"] == sum(len(x) for x in in_window)
    assert v["by_process_event"]["gateway/fill"]["lines"] == 10
