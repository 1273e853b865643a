"""Ray for the sweep's tests: skip without it (fail in CI), and a real two-node Ray
cluster on loopback, each node a ``ray start --block`` in its own session, so the
teardown ends exactly its processes (by process group), never another Ray on the box."""

from __future__ import annotations

import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# ../shared/data beside the checkout (a worktree one level deeper finds it too)
DATA = next((p for p in (REPO_ROOT / ".." / "shared" / "data", REPO_ROOT / ".." / ".." / "shared" / "data")
             if p.is_dir()), REPO_ROOT / ".." / "shared" / "data")
BN_BTC = DATA / "binance_usdm" / "btcusdt_20240808.gz"
BN_ETH = DATA / "binance_usdm" / "ethusdt_20240808.gz"
NODE_START_TIMEOUT_S = 180.0  # a loaded 2-core box takes tens of seconds per node
OBJECT_STORE_BYTES = 200 * 2**20


def require_ray() -> None:
    """Skip when ray is missing, with the reason; in CI (env CI set) fail instead."""
    try:
        import ray  # noqa: F401 - only whether it imports
    except ImportError as e:
        if os.environ.get("CI"):
            pytest.fail(f"ray is not importable in CI ({e}); the test extra installs it")
        pytest.skip(f"ray is not installed ({e}): pip install 'hl-mm-appliance[research]'")


def need_capture(path: Path) -> str:
    if not path.is_file():
        pytest.skip(f"recorded market data missing: {path} (see ../shared/data/README.md)")
    return str(path.resolve())


def mmctl(*args: str, env: dict | None = None, timeout: float = 900.0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def same_outcome(a: dict, b: dict) -> bool:
    """Equal dicts, a NaN equal to a NaN."""
    if a.keys() != b.keys():
        return False
    for k, x in a.items():
        y = b[k]
        both_nan = isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)
        if not both_nan and x != y:
            return False
    return True


def start_local_ray(cpus: int = 2) -> None:
    """A local Ray in this process (the research functions join it rather than start
    their own; they leave it running): one start for a test module's runs."""
    import ray

    # its workers import this checkout, as the driver does (they inherit the environment)
    path = os.environ.get("PYTHONPATH", "")
    if str(REPO_ROOT) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), path]))
    ray.init(num_cpus=cpus, object_store_memory=OBJECT_STORE_BYTES, include_dashboard=False,
             logging_level="WARNING", log_to_driver=False)


def stop_local_ray() -> None:
    import ray

    ray.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackCluster:
    """A head and one worker node on 127.0.0.1, one CPU each, token auth on, their own
    temp dirs. ``env`` is what a driver needs to join it (``address``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        # the nodes import this checkout and its numba cache, as installed nodes would
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
        self.env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32),
                        RAY_USAGE_STATS_ENABLED="0")
        self.procs: list[subprocess.Popen] = []
        self.dirs: list[str] = []

    def _start(self, *args: str) -> None:
        # a short path: Ray's unix sockets live under it (108-byte limit)
        tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")
        self.dirs.append(tmp)
        cmd = ["ray", "start", "--block", "--num-cpus=1", f"--object-store-memory={OBJECT_STORE_BYTES}",
               "--node-ip-address=127.0.0.1", "--disable-usage-stats", "--include-log-monitor=false",
               f"--temp-dir={tmp}", f"--dashboard-agent-listen-port={free_port()}",
               f"--dashboard-agent-grpc-port={free_port()}", f"--runtime-env-agent-port={free_port()}",
               f"--metrics-export-port={free_port()}", *args]
        log = open(Path(tmp) / "start.log", "w")  # noqa: SIM115 - closed with the process
        self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True))

    def start(self) -> None:
        self._start("--head", f"--port={self.port}", "--include-dashboard=false")
        self._wait_port()
        self._start(f"--address={self.address}")
        self._wait_nodes(2)

    def _wait_port(self) -> None:
        deadline = time.monotonic() + NODE_START_TIMEOUT_S
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"the head did not listen on {self.port} in {NODE_START_TIMEOUT_S} s"
                           f"\n{self.logs()}")

    def _wait_nodes(self, n: int) -> None:
        """Poll ``ray status`` until ``n`` nodes are alive (a subprocess: the test's own
        process never joins the cluster)."""
        deadline = time.monotonic() + NODE_START_TIMEOUT_S
        out = ""
        while time.monotonic() < deadline:
            self._check_alive()
            r = subprocess.run(["ray", "status", f"--address={self.address}"], env=self.env,
                               capture_output=True, text=True, timeout=120)
            out = r.stdout + r.stderr
            if r.returncode == 0 and out.count(" node_") >= n:
                return
            time.sleep(2)
        raise TimeoutError(f"{n} nodes not up in {NODE_START_TIMEOUT_S} s:\n{out}\n{self.logs()}")

    def _check_alive(self) -> None:
        for p in self.procs:
            if p.poll() is not None:
                raise RuntimeError(f"ray start exited with {p.returncode}\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join((Path(d) / "start.log").read_text()[-3000:] for d in self.dirs
                         if (Path(d) / "start.log").exists())

    def stop(self) -> None:
        """End each node's process group: SIGTERM, then SIGKILL what is left after 30 s."""
        for p in reversed(self.procs):  # the worker first
            _end_group(p)


def _group_running(pgid: int) -> bool:
    """A process of the group that is not a zombie (zombies left to an init that does
    not reap them would hold the group forever)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            return True
    return False


def _end_group(proc: subprocess.Popen, grace_s: float = 30.0) -> None:
    pgid = proc.pid  # its own session: the group id is its pid
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        proc.poll()  # reap the leader
        if not _group_running(pgid):
            return
        time.sleep(0.5)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)
