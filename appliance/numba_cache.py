"""Where numba keeps its compiled kernels: one directory per version of our sources.

numba checks a cached function against its own file only. A kernel that calls into
another file (the quote kernel into the rules module, the estimator kernel into each
estimator) keeps loading its old machine code after that other file changes, and a
cache entry that names a module since moved or deleted crashes the process on load
(seen after an upgrade: the quote process restart-looped on a missing module). So
the whole cache is keyed by a hash of every source file of ``appliance`` and
``shm_layout``: any change to the code starts a fresh directory, the same code
(another clone of the same commit) finds its kernels warm.

The directory is ``$HL_MM_CACHE_DIR``, else systemd's ``$CACHE_DIRECTORY``, else
``$XDG_CACHE_HOME/hl-mm-appliance`` or ``~/.cache/hl-mm-appliance``, else a per-user
directory in the temp dir when home is not writable; then ``numba-<hash>``. The newest
few keys are kept, and any used within the hour; older ones are removed. Written by
hand with the standard library: it runs on every import of the package, before numba
compiles anything (~10 ms).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

KEEP_VERSIONS = 3
KEEP_RECENT_S = 3600.0  # a key used within the hour stays (another checkout may be running it)
_ROOTS = ("appliance", "shm_layout")


def source_hash(base: Path) -> str:
    """A hash of the content of every .py file under ``base``/appliance and shm_layout."""
    h = hashlib.blake2b(digest_size=8)
    for root in _ROOTS:
        for dirpath, dirnames, filenames in os.walk(base / root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(f for f in filenames if f.endswith(".py")):
                path = Path(dirpath, name)
                h.update(str(path.relative_to(base)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def _writable_base() -> Path:
    # explicit, then systemd's CacheDirectory= (it sets CACHE_DIRECTORY), then the user's
    candidates = [Path(os.environ[k].split(":")[0]) for k in ("HL_MM_CACHE_DIR", "CACHE_DIRECTORY")
                  if os.environ.get(k)]
    xdg = os.environ.get("XDG_CACHE_HOME")
    candidates.append(Path(xdg) / "hl-mm-appliance" if xdg else Path.home() / ".cache" / "hl-mm-appliance")
    candidates.append(Path(tempfile.gettempdir()) / f"hl-mm-appliance-{os.getuid()}")
    for base in candidates:
        try:
            base.mkdir(parents=True, exist_ok=True)
            if os.access(base, os.W_OK):
                return base
        except OSError:
            continue
    return candidates[-1]


def _prune(base: Path, current: Path) -> None:
    """Remove key directories beyond the newest KEEP_VERSIONS that no process has used
    for KEEP_RECENT_S (never the current)."""
    try:
        dirs = sorted(((d.stat().st_mtime, d) for d in base.glob("numba-*")
                       if d.is_dir() and d != current), reverse=True)
    except OSError:
        return
    cutoff = time.time() - KEEP_RECENT_S
    for used, old in dirs[KEEP_VERSIONS - 1:]:
        if used < cutoff:
            shutil.rmtree(old, ignore_errors=True)


def configure() -> Path:
    """Point numba (this process and every child it starts) at the cache directory of
    this version of the sources; returns it."""
    package_base = Path(__file__).resolve().parent.parent
    base = _writable_base()
    cache_dir = base / f"numba-{source_hash(package_base)}"
    fresh = not cache_dir.exists()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        os.utime(cache_dir)  # newest use, for pruning
    except OSError:
        pass
    if fresh:
        _prune(base, cache_dir)
    os.environ["NUMBA_CACHE_DIR"] = str(cache_dir)
    numba_config = sys.modules.get("numba.core.config")
    if numba_config is not None:  # numba imported first (a test, a tool): tell it too
        numba_config.CACHE_DIR = str(cache_dir)
    return cache_dir
