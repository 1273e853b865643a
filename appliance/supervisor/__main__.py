"""``python -m appliance.supervisor``: the supervisor, as ``mmctl start`` runs it
in the background when it cannot fork it (``mmctl start --foreground`` runs the same
code in-process)."""

import argparse
import sys

from .fork_run import no_blas_threads

with no_blas_threads():  # so that the fork server and the venue can be forked from here
    from .run import run_foreground

ap = argparse.ArgumentParser(prog="appliance.supervisor")
ap.add_argument("--instance", default="default")
ap.add_argument("--config", default=None)
ap.add_argument("--cores", default=None)
ap.add_argument("--duration", type=float, default=None)
a = ap.parse_args()
sys.exit(run_foreground(a.instance, a.config, a.cores, a.duration))
