"""Ctrl-C on a foreground ``mmctl start`` (the terminal signals its whole foreground
process group): the supervisor alone takes it and stops the set in order, so the
gateway's cancel-all reaches a venue still up — no refused connection, no traceback
in the venue's log, every process gone."""

import os
import signal
import subprocess
import time

from appliance_helpers import MMCTL, force_cleanup, write_config
from hl_e2e_helpers import TRADING_CONFIG, state, venue_url, wait_quoting


def test_ctrl_c_when_foreground_then_gateway_cancels_before_the_venue_stops(tmp_path):
    instance = f"ctlc{os.getpid()}"
    cfg, _ = write_config(tmp_path, TRADING_CONFIG)
    proc = subprocess.Popen([*MMCTL, "start", "--foreground", "--instance", instance, "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # its own group, as a shell's job is
    try:
        url = None
        for _ in range(600):
            try:
                url = venue_url(tmp_path, instance)
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stdout.read()) from None
                time.sleep(0.2)
        assert url and wait_quoting(url), "no order rests at the venue"

        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        out, _ = proc.communicate(timeout=120)

        logs = state(tmp_path, instance)
        # records in <name>.log (JSON lines), what bypassed logging (a crash) in <name>.out
        gateway = (logs / "gateway.log").read_text() + (logs / "gateway.out").read_text()
        venue = (logs / "venue.log").read_text() + (logs / "venue.out").read_text()
        assert "ConnectionRefused" not in gateway and "no answer" not in gateway, gateway[-3000:]
        assert "Traceback" not in venue, venue[-3000:]
        assert proc.returncode == 0, out[-3000:]
        left = subprocess.run(["pgrep", "-f", f"--instance {instance}"], capture_output=True, text=True)
        assert left.stdout.strip() == "", "processes left behind"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        force_cleanup(instance)
