"""Load the processes' kernels from the numba cache in the fork server, never compile
them (issue 18).

A kernel loaded from numba's on-disk cache costs memory in the process that loads it:
its machine code in LLVM's JIT, the code library, its environment and the dispatcher's
tables. Loaded in the fork server before it forks, those pages are shared copy-on-write
by the five children, which find the kernel already in the dispatcher and load nothing.
Which kernels: those the processes listed as called (``runtime/kernel_manifest.py``);
every cached signature of each.

This uses numba's cache as ``Dispatcher.compile`` does when it finds an entry (numba
0.68: ``_cache.load_overload``, ``insert_user_function``, ``add_overload``), without
its fall-through to the compiler: an entry missing or stale (another build of the code)
is skipped, so a cold cache costs nothing here and the server is ready at once; the
children then compile as before. Any error on one kernel skips it, said in the report.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from numba.core import sigutils
from numba.core.caching import NullCache
from numba.core.compiler_lock import global_compiler_lock
from numba.core.dispatcher import Dispatcher

from appliance.runtime.kernel_manifest import read_manifests

PRELOAD_BUDGET_S = 30.0  # a warm load of the five's ~30 kernels: ~3 s on a quiet box


@dataclass
class PreloadReport:
    listed: int = 0  # kernels the processes listed
    loaded: int = 0  # signatures loaded from the cache
    not_cached: int = 0  # listed kernels with no usable cache entry (cold or stale)
    skipped: list[str] = field(default_factory=list)  # why a listed kernel was not loaded
    seconds: float = 0.0
    out_of_time: bool = False

    def summary(self) -> str:
        if not self.listed:
            return ("no kernel list yet (a cold cache, or no process has run since the code "
                    "changed): each child loads its own kernels")
        s = (f"{self.loaded} cached kernel signatures of {self.listed} listed kernels "
             f"loaded in {self.seconds:.1f} s")
        if self.not_cached:
            s += f", {self.not_cached} not in the cache (children compile them)"
        if self.skipped:
            s += f", {len(self.skipped)} skipped ({'; '.join(self.skipped[:3])})"
        if self.out_of_time:
            s += f", stopped at the {PRELOAD_BUDGET_S:g} s budget"
        return s


def resolve(module: str, qualname: str) -> Dispatcher | None:
    """The dispatcher ``module.qualname`` of a module already imported (importing one
    here could start a thread, and a multi-threaded server is not forked), else None."""
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, Dispatcher) else None


def load_cached(disp: Dispatcher) -> int:
    """Load every signature of ``disp`` found in its cache index for this machine, as
    ``Dispatcher.compile`` would on a cache hit; never compiles. The number loaded."""
    cache = disp._cache
    if isinstance(cache, NullCache):
        return 0
    magic = disp.targetctx.codegen().magic_tuple()
    n = 0
    with global_compiler_lock:
        for key in cache._cache_file._load_index():  # {} when stale or absent
            sig, key_magic = key[0], key[1]
            if key_magic != magic:
                continue
            args, _ = sigutils.normalize_signature(sig)
            if disp.overloads.get(tuple(args)) is not None:
                continue
            cres = cache.load_overload(sig, disp.targetctx)
            if cres is None:  # the code's bytes changed since: not ours to compile
                continue
            if not cres.objectmode:
                disp.targetctx.insert_user_function(cres.entry_point, cres.fndesc,
                                                    [cres.library])
            disp.add_overload(cres)
            n += 1
    return n


def preload_kernels(cache_dir: str | Path | None = None,
                    budget_s: float = PRELOAD_BUDGET_S) -> PreloadReport:
    """Load the listed kernels from the cache, within ``budget_s`` seconds."""
    rep = PreloadReport()
    t0 = time.monotonic()
    names = read_manifests(cache_dir)
    rep.listed = len(names)
    for module, qualname in names:
        if time.monotonic() - t0 > budget_s:
            rep.out_of_time = True
            break
        try:
            disp = resolve(module, qualname)
            if disp is None:
                rep.skipped.append(f"{module}.{qualname}: not a kernel of a module the server imported")
                continue
            got = load_cached(disp)
        except Exception as e:  # noqa: BLE001 - a child loads or compiles it itself
            rep.skipped.append(f"{module}.{qualname}: {e!r}")
            continue
        rep.loaded += got
        if got == 0 and not disp.overloads:
            rep.not_cached += 1
    rep.seconds = time.monotonic() - t0
    return rep
