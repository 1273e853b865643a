"""What is wrong with this box for the appliance, each finding with its fix.

``mmctl doctor`` runs these before an operator's first start or after a move: the
checks ``mmctl start`` would refuse on (clock, cores, ports, key), and the ones it only
warns about or pays for later (memory locking, /dev/shm room, a cold or read-only numba
cache, a state directory it cannot write). Nothing is started or changed; a port check
binds and closes at once.
"""

from __future__ import annotations

import os
import platform
import resource
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from appliance.config import Config, state_dir
from appliance.hyperliquid.keys import KeyLoadError, load_key
from appliance.runtime.metrics_socket import MetricsPortError, probe
from shm_layout.segments import SEGMENTS

from .cores import CoresError, assign
from .start_checks import clock_verdict, running_supervisor

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # OK / WARN / FAIL
    detail: str
    fix: str = ""


def segments_bytes() -> int:
    """Shared memory one instance maps (every segment of shm_layout)."""
    return sum(s.size_bytes for s in SEGMENTS)


def check_cores(cfg: Config) -> Finding:
    usable = sorted(os.sched_getaffinity(0))
    try:
        _, warnings = assign(cfg.appliance.cores)
    except CoresError as e:
        return Finding("cores", FAIL, str(e), "set appliance.cores (or --cores) to CPUs this "
                       f"process may use: {usable}")
    if warnings:
        return Finding("cores", WARN, f"{len(usable)} CPU(s) usable: " + "; ".join(warnings),
                       "give the five processes five isolated cores (isolcpus, "
                       "appliance.cores) on a trading box")
    return Finding("cores", OK, f"{len(usable)} CPU(s) usable, plan "
                   f"{cfg.appliance.cores or 'unpinned'}")


def check_clock(cfg: Config) -> Finding:
    v = clock_verdict(cfg)
    if not v.ok:
        return Finding("clock", FAIL, "; ".join(v.reasons),
                       "sync the clock (chrony/ntpd); `mmctl check-clock` shows the detail")
    if v.notes:
        return Finding("clock", WARN, "; ".join(v.notes),
                       "for live trading: list servers in clock.ntp_servers and set "
                       "clock.require_ntp")
    return Finding("clock", OK, f"offset {v.offset_ns / 1e6:+.3f} ms" if v.offset_ns is not None
                   else "kernel clock synced")


def check_memlock(cfg: Config) -> Finding:
    need = segments_bytes()
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if not cfg.appliance.lock_memory:
        return Finding("memlock", OK, "appliance.lock_memory = false: segments not locked")
    if soft != resource.RLIM_INFINITY and soft < need:
        return Finding("memlock", WARN, f"RLIMIT_MEMLOCK {soft / 2**20:.1f} MiB < "
                       f"{need / 2**20:.1f} MiB of segments: they may be paged out",
                       "LimitMEMLOCK=infinity in the unit, or `ulimit -l unlimited`")
    return Finding("memlock", OK, f"segments ({need / 2**20:.1f} MiB) can be locked")


def check_shm(path: str = "/dev/shm") -> Finding:
    need = segments_bytes()
    try:
        st = os.statvfs(path)
    except OSError as e:
        return Finding("shm", FAIL, f"{path}: {e.strerror}", "mount a tmpfs on /dev/shm")
    free = st.f_bavail * st.f_frsize
    if free < need:
        return Finding("shm", FAIL, f"{path} has {free / 2**20:.1f} MiB free, an instance needs "
                       f"{need / 2**20:.1f} MiB", "enlarge /dev/shm (mount -o remount,size=...)")
    return Finding("shm", OK, f"{path}: {free / 2**20:.0f} MiB free, {need / 2**20:.1f} MiB "
                   "per instance")


def check_numba_cache() -> Finding:
    cache = os.environ.get("NUMBA_CACHE_DIR", "")
    if not cache:
        return Finding("numba cache", FAIL, "NUMBA_CACHE_DIR not set (appliance not imported?)")
    try:
        with tempfile.NamedTemporaryFile(dir=cache):
            pass
    except OSError as e:
        return Finding("numba cache", FAIL, f"{cache} not writable ({e.strerror}): every start "
                       "compiles from scratch, or fails", "set HL_MM_CACHE_DIR to a writable "
                       "directory (systemd: CacheDirectory=)")
    n = sum(1 for _ in Path(cache).rglob("*.nbi"))
    if n == 0:
        return Finding("numba cache", WARN, f"{cache} is empty: the first start compiles every "
                       "kernel (minutes on two cores)", "mmctl warm")
    return Finding("numba cache", OK, f"{cache}: {n} kernel index files")


def check_state_dir(cfg: Config, instance: str) -> Finding:
    sd = state_dir(cfg, instance)
    probe_dir = sd if sd.exists() else next((p for p in sd.parents if p.exists()), Path("/"))
    if not os.access(probe_dir, os.W_OK | os.X_OK):
        return Finding("state dir", FAIL, f"{sd}: {probe_dir} is not writable",
                       "set appliance.state_dir (systemd: StateDirectory=)")
    return Finding("state dir", OK, str(sd))


def check_ports(cfg: Config, instance: str) -> Finding:
    r = cfg.risk
    if not r.metrics_port:
        return Finding("ports", OK, "metrics exporter disabled (risk.metrics_port = 0)")
    if running_supervisor(instance):
        return Finding("ports", OK, f"instance '{instance}' is running and holds "
                       f"{r.metrics_host}:{r.metrics_port}")
    try:
        probe(r.metrics_host, r.metrics_port)
    except MetricsPortError as e:
        return Finding("ports", FAIL, str(e), "another instance or Prometheus has it")
    return Finding("ports", OK, f"metrics {r.metrics_host}:{r.metrics_port} free")


def check_key(cfg: Config) -> Finding:
    g = cfg.gateway
    if g.venue != "hyperliquid" or g.network == "local":
        return Finding("key", OK, f"{g.venue}/{g.network}: the demo key, none of yours needed")
    try:
        key = load_key(g.key_file or None, g.key_env)
    except KeyLoadError as e:
        return Finding("key", FAIL, str(e), "chmod 600 the key file, or set "
                       f"${g.key_env}")
    return Finding("key", OK, f"{'file ' + g.key_file if g.key_file else '$' + g.key_env}: "
                   f"address {key.address}")


def run_checks(cfg: Config, instance: str) -> list[Finding]:
    return [
        Finding("python", OK, f"{platform.python_implementation()} {platform.python_version()} "
                f"on {platform.machine()}"),
        check_cores(cfg), check_clock(cfg), check_memlock(cfg), check_shm(),
        check_numba_cache(), check_state_dir(cfg, instance), check_ports(cfg, instance),
        check_key(cfg),
    ]


def render(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"[{f.status:>4}] {f.check:<12} {f.detail}")
        if f.fix and f.status != OK:
            lines.append(f"{'':19}fix: {f.fix}")
    bad = [f for f in findings if f.status == FAIL]
    lines.append(f"{len(bad)} problem(s)" if bad else "no problem found")
    return "\n".join(lines)


def as_dicts(findings: list[Finding]) -> list[dict]:
    return [asdict(f) for f in findings]
