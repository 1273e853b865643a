"""``mmctl start`` watches the supervisor it detached until it quotes. A watch that fails
(an error, a Ctrl-C) must not leave that supervisor quoting behind the operator's back,
and a segment caught between its creator's ``shm_open`` and ``ftruncate`` (0 bytes) is
"not ready yet", not a foreign segment that aborts the start (both seen in CI)."""

import os
import subprocess
import sys

from appliance_helpers import force_cleanup, write_config
from hl_e2e_helpers import TRADING_CONFIG

from appliance.runtime.control import pid_alive
from shm_layout.shm import existing_segments

# The real start path in its own interpreter (as mmctl runs it), its watch made to fail
# once the supervisor's segments are attached: prints the supervisor's pid, exits 3.
WATCH_FAILS = """
import sys
from appliance.config import load_config
from appliance.supervisor import run
from shm_layout import LayoutMismatch

instance, cfg_path = sys.argv[1], sys.argv[2]
real = run._attach_own

def failing(inst, pid):
    mem = real(inst, pid)
    if mem is None:
        return None
    mem.close()
    print(pid, flush=True)
    raise LayoutMismatch("injected: the start's watch failed")

run._attach_own = failing
try:
    run.start_background(instance, cfg_path, load_config(cfg_path), None, None, 300.0)
except LayoutMismatch:
    sys.exit(3)
sys.exit(0)
"""


def test_start_when_its_watch_fails_then_the_supervisor_it_detached_is_stopped(tmp_path):
    instance = f"watch{os.getpid()}"
    cfg, _ = write_config(tmp_path, TRADING_CONFIG)
    try:
        p = subprocess.run([sys.executable, "-c", WATCH_FAILS, instance, str(cfg)],
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 3, p.stdout + p.stderr
        supervisor = int(p.stdout.split()[0])
        assert not pid_alive(supervisor), "the supervisor outlived the failed start"
        assert existing_segments(instance) == [], "its segments were left behind"
    finally:
        force_cleanup(instance)
