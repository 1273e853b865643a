"""The local venue as a supervised child (gateway.network = "local").

``python -m appliance.venue`` on a loopback port (``gateway.local_venue_port``,
0 = a free one), started before the feed and stopped after every other process. The
first start forks the supervisor (``fork_run.py``: numpy and numba are imported
already); a restart, from the supervision loop, is a new interpreter.
Its URL goes to the children in ``MM_VENUE_URL`` and into ``venue.url`` in the
state dir (for ``mmctl``, tests and benchmarks). The URL is the one the venue itself
bound and reported (``--ready-file``: ``<url> <pid>`` once listening), never a port
picked beforehand and merely seen answering: another instance could take a port
between a pick and the venue's bind (the bind waits for the venue's kernels), and an
answering port would then be the other instance's venue. A restart asks for the port
the first venue got, since the children hold its URL. A venue that dies is started
again (its book and accounts start empty; the gateway reconciles on the feed's
resync).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from appliance.config import Config, log_dir, state_dir
from appliance.config.state_files import VENUE_READY_FILE, VENUE_URL_FILE
from appliance.hyperliquid.venue_access import VENUE_URL_ENV
from appliance.runtime import logs

from .fork_run import fork_run, run_module, single_threaded
from .forked_child import ChildProcess

log = logging.getLogger("supervisor")

STOP_GRACE_S = 5.0
# A supervisor that dies leaves the venue this long to serve the children's last
# cancels (they get SIGTERM from the kernel), then it stops too.
ORPHAN_GRACE_S = 3.0


def reported_url(ready_path: Path, pid: int) -> str | None:
    """The URL in a venue's ``--ready-file`` when venue ``pid`` wrote it; else None."""
    try:
        url, writer = ready_path.read_text().split()
        return url if int(writer) == pid else None
    except (OSError, ValueError):
        return None


class LocalVenue:
    def __init__(self, cfg: Config, instance: str, config_path: str | None,
                 lock_fd: int | None = None) -> None:
        self.cfg = cfg
        self.instance = instance
        self.config_path = config_path
        self.host = "127.0.0.1"
        self.port = cfg.gateway.local_venue_port  # 0 until the venue reports the port it bound
        self.ready_path = state_dir(cfg, instance) / VENUE_READY_FILE
        self.proc: ChildProcess | None = None
        self.restarts = 0
        self._restart_at = 0.0
        self._launched_at = 0.0
        # Its records in venue.log (its own rotating file) or journald; what it prints
        # outside logging (its banner, a crash) in venue.out unless under journald.
        self.to_journal = logs.under_journald()
        self.log_path = log_dir(cfg, instance) / "venue.log"
        self.lock_fd = lock_fd  # the instance lock, held while the venue lives

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _cmd(self) -> list[str]:
        cmd = [sys.executable, "-m", "appliance.venue", "--host", self.host, "--port", str(self.port),
               "--orphan-grace", str(ORPHAN_GRACE_S), "--instance", self.instance,
               "--ready-file", str(self.ready_path)]
        if self.config_path:
            cmd += ["--config", str(self.config_path)]
        # Only [venue] funded accounts exist there (the demo key's by default): another key
        # is refused like an unfunded account on the real venue.
        return cmd

    def spawn(self) -> None:
        out = None if self.to_journal else logs.open_private(
            self.log_path.with_suffix(".out"), self.cfg.logs.max_file_bytes)
        self.ready_path.unlink(missing_ok=True)  # only this venue's report counts
        cmd = self._cmd()
        keep = (self.lock_fd,) if self.lock_fd is not None else ()
        # Own process group: a terminal's Ctrl-C must not stop the venue before the
        # gateway has cancelled through it (the supervisor stops it last). Only the
        # venue: a child in an orphaned group would get SIGHUP.
        try:
            if single_threaded():  # the first start: forked, numpy and numba imported already
                self.proc = fork_run(lambda: run_module(cmd[2], cmd[3:]), title=" ".join(cmd),
                                     stream=out, keep_fds=keep,
                                     new_group=True)
            else:  # a restart from the supervision loop (it has threads): a new interpreter
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=subprocess.STDOUT, pass_fds=keep,
                                             process_group=0)
        finally:
            if out is not None:
                os.close(out)

    def start(self, timeout_s: float) -> None:
        """Spawn and wait until the port answers; RuntimeError if it does not."""
        self.launch()
        self.wait_listening(timeout_s)

    def launch(self) -> None:
        """Spawn, without waiting (``wait_listening`` waits); the supervisor records the
        venue's pid in between."""
        self.spawn()
        self._launched_at = time.monotonic()
        log.info("stage: local venue starting (compiles its matching kernels first; log %s)",
                 self.log_path)

    def reported_url(self) -> str | None:
        """The URL the launched venue wrote once listening; None before (or when the
        file is another process's)."""
        return reported_url(self.ready_path, self.proc.pid) if self.proc is not None else None

    def wait_listening(self, timeout_s: float) -> None:
        """Wait until the launched venue reports the URL it listens on, then hand it to
        the children spawned from now on; RuntimeError if it exits or does not report."""
        t0 = self._launched_at
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"local venue exited with code {self.proc.returncode}; "
                                   f"see {self.log_path}")
            url = self.reported_url()
            if url is not None:
                self.port = int(url.rsplit(":", 1)[1])
                break
            time.sleep(0.01)  # a stat of a missing file costs microseconds
        else:
            self.stop()
            where = f"on port {self.port}" if self.port else "on any port"
            raise RuntimeError(f"local venue not listening {where} after {timeout_s:g} s; "
                               f"see {self.log_path}")
        os.environ[VENUE_URL_ENV] = self.url  # inherited by every child spawned later
        (state_dir(self.cfg, self.instance) / VENUE_URL_FILE).write_text(self.url + "\n")
        log.info("stage: local venue on %s (pid %d, %.1f s)", self.url, self.proc.pid,
                 time.monotonic() - t0)

    def check(self) -> bool:
        """Restart a venue that died (called from the supervision loop); True when a new
        venue process was spawned (its pid is to be recorded)."""
        if self.proc is None or self.proc.poll() is None:
            return False
        now = time.monotonic()
        if not self._restart_at:
            self._restart_at = now + min(5.0, 0.5 * 2 ** self.restarts)
            log.warning("local venue exited with code %s; restarting", self.proc.returncode)
            return False
        if now >= self._restart_at:
            self._restart_at = 0.0
            self.restarts += 1
            self.spawn()
            return True
        return False

    def stop(self) -> None:
        p = self.proc
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            log.warning("local venue did not stop in %g s, killed", STOP_GRACE_S)
            p.kill()
            p.wait()
        log.info("local venue stopped")
