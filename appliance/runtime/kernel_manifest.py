"""Which kernels a process calls from Python, written next to the numba cache for the
fork server (issue 18).

The fork server loads these kernels' cached machine code before it forks, so the
children share it copy-on-write instead of each loading a private copy
(``supervisor/kernel_preload.py``). It must load what the processes call and no more: a
kernel loaded from the cache carries the code of every function it calls, so loading
the callees too (every entry of the cache's index) about doubles the memory for nothing
(measured: 30 called kernels 38 MiB, all 321 cached entries 82 MiB). Only a process
knows which kernels it calls, so ``KernelRecorder`` notes each kernel compiled at the
top level (a ``numba:compile`` event not nested in another compile: a call from
Python) and each kernel this process loaded from the cache itself outside a compile
(numba counts those hits per dispatcher), and merges them into
``<numba cache dir>/preload/<process>.json``.
The cache directory is keyed by a hash of the sources (``numba_cache.py``), so a code
change starts with no list, and a cold cache has none.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from numba.core import config as numba_config
from numba.core import event
from numba.core.dispatcher import Dispatcher

MANIFEST_DIR = "preload"
_OURS = ("appliance.", "shm_layout.")


def manifest_dir(cache_dir: str | Path | None = None) -> Path | None:
    """``<cache dir>/preload``, or None when numba has no cache directory set."""
    base = cache_dir if cache_dir is not None else numba_config.CACHE_DIR
    return Path(base) / MANIFEST_DIR if base else None


def kernel_name(disp: Dispatcher) -> tuple[str, str]:
    """(module, qualname) of a dispatcher's Python function."""
    return disp.py_func.__module__, disp.py_func.__qualname__


def loaded_from_cache(packages: tuple[str, ...] = _OURS) -> set[tuple[str, str]]:
    """The module-level kernels of modules named ``packages*`` this process loaded from
    the cache itself."""
    out = set()
    for name, mod in list(sys.modules.items()):
        if mod is None or not name.startswith(packages):
            continue
        for obj in list(vars(mod).values()):
            if isinstance(obj, Dispatcher) and obj._cache_hits:
                out.add(kernel_name(obj))
    return out


class KernelRecorder(event.Listener):
    """Records the kernels this process calls; ``save`` merges them into its list."""

    def __init__(self, process: str, packages: tuple[str, ...] = _OURS) -> None:
        self.process = process
        self.packages = packages  # module name prefixes whose kernels are looked at
        self._depth = 0  # a kernel's compile compiles the functions it calls, nested
        self.compiled: set[tuple[str, str]] = set()
        # Loaded from the cache while a caller compiled (its callees): not called from
        # Python, so not listed (each would be loaded twice: alone and in its caller).
        self.hit_in_compile: set[tuple[str, str]] = set()
        self._hits_before: set[tuple[str, str]] = set()
        event.register("numba:compile", self)

    def on_start(self, ev: event.Event) -> None:
        if self._depth == 0:
            disp = (ev.data or {}).get("dispatcher")
            if isinstance(disp, Dispatcher):
                self.compiled.add(kernel_name(disp))
            self._hits_before = loaded_from_cache(self.packages)
        self._depth += 1

    def on_end(self, ev: event.Event) -> None:
        self._depth = max(0, self._depth - 1)
        if self._depth == 0:
            self.hit_in_compile |= loaded_from_cache(self.packages) - self._hits_before

    def kernels(self) -> set[tuple[str, str]]:
        return self.compiled | (loaded_from_cache(self.packages) - self.hit_in_compile)

    def save(self, cache_dir: str | Path | None = None) -> int:
        """Merge what was recorded into ``<cache dir>/preload/<process>.json`` (written
        atomically); the number of kernels listed, 0 when there is nowhere to write."""
        d = manifest_dir(cache_dir)
        if d is None:
            return 0
        path = d / f"{self.process}.json"
        names = self.kernels() | set(read_manifest(path))
        if not names:
            return 0
        d.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps({"process": self.process,
                                   "kernels": sorted(list(n) for n in names)}))
        os.replace(tmp, path)
        return len(names)


def read_manifest(path: Path) -> list[tuple[str, str]]:
    """The (module, qualname) pairs of one list; [] when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
        return [(str(m), str(q)) for m, q in data["kernels"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def read_manifests(cache_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """Every process's list, merged and sorted."""
    d = manifest_dir(cache_dir)
    if d is None or not d.is_dir():
        return []
    out: set[tuple[str, str]] = set()
    for path in sorted(d.glob("*.json")):
        out.update(read_manifest(path))
    return sorted(out)
