"""The fork server's kernel preload: the processes list the kernels they call, the
server loads exactly those from the numba cache and never compiles.

Each step runs in a fresh interpreter (a numba dispatcher keeps what it compiled or
loaded for the life of the process) with its own cache directory and a small kernel
module written for the test.
"""

import json
import subprocess
import sys
import textwrap

KERNELS = textwrap.dedent("""
    from numba import njit

    @njit(cache=True)
    def inner(x):
        return x * 2

    @njit(cache=True)
    def outer(x):
        return inner(x) + 1
""")

RUN = textwrap.dedent("""
    import json, sys
    from numba.core import config, event
    from appliance.runtime.kernel_manifest import KernelRecorder, read_manifests
    from appliance.supervisor.kernel_preload import preload_kernels

    preload, call = sys.argv[1] == "1", sys.argv[2] == "1"
    cache_dir = config.CACHE_DIR  # appliance's: <HL_MM_CACHE_DIR>/numba-<hash of sources>
    import kmod

    class Count(event.Listener):
        n = 0
        def on_start(self, ev):
            Count.n += 1
        def on_end(self, ev):
            pass

    event.register("numba:compile", Count())
    res = {}
    if preload:
        rep = preload_kernels(cache_dir)
        res["report"] = {"listed": rep.listed, "loaded": rep.loaded,
                         "not_cached": rep.not_cached, "skipped": rep.skipped}
        res["compiles_in_preload"] = Count.n
        res["overloads_after_preload"] = len(kmod.outer.overloads)
    rec = KernelRecorder("feed", packages=("kmod",))
    if call:
        res["value"] = kmod.outer(20)
    res["compiles"] = Count.n
    res["listed"] = rec.save(cache_dir)
    res["manifest"] = read_manifests(cache_dir)
    print(json.dumps(res))
""")


def _run(tmp_path, cache, preload: bool, call: bool) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", RUN, "1" if preload else "0", "1" if call else "0"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**_env(), "PYTHONPATH": f"{tmp_path}:{_repo()}", "HL_MM_CACHE_DIR": str(cache)})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _numba_dir(cache):
    (d,) = cache.glob("numba-*")
    return d


def _repo() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2])


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "HL_MM_CACHE_DIR")}


def test_preload_when_kernel_listed_and_cached_then_loaded_without_compiling(tmp_path):
    # Arrange: a process calls outer (compiling it and inner), listing outer only
    (tmp_path / "kmod.py").write_text(KERNELS)
    cache = tmp_path / "cache"
    first = _run(tmp_path, cache, preload=False, call=True)
    assert first["value"] == 41 and first["compiles"] >= 1
    assert first["manifest"] == [["kmod", "outer"]]  # the callee is not listed
    # Act: a fresh interpreter preloads, then calls
    second = _run(tmp_path, cache, preload=True, call=True)
    # Assert: outer came from the cache, nothing was compiled, the call found it loaded
    assert second["report"] == {"listed": 1, "loaded": 1, "not_cached": 0, "skipped": []}
    assert second["compiles_in_preload"] == 0 and second["overloads_after_preload"] == 1
    assert second["compiles"] == 0 and second["value"] == 41


def test_preload_when_cache_cold_then_nothing_compiled_and_the_call_compiles(tmp_path):
    # Arrange: the list names outer, but its cache entries are gone (a cold cache)
    (tmp_path / "kmod.py").write_text(KERNELS)
    cache = tmp_path / "cache"
    _run(tmp_path, cache, preload=False, call=True)
    for f in cache.rglob("*.nb[ic]"):
        f.unlink()
    # Act
    res = _run(tmp_path, cache, preload=True, call=True)
    # Assert: the preload skipped it without compiling; the process compiled on its call
    assert res["report"]["loaded"] == 0 and res["report"]["not_cached"] == 1
    assert res["compiles_in_preload"] == 0 and res["overloads_after_preload"] == 0
    assert res["compiles"] >= 1 and res["value"] == 41


def test_recorder_when_callee_loaded_from_cache_during_a_compile_then_not_listed(tmp_path):
    # Arrange: inner cached, outer not (a cache filled halfway)
    (tmp_path / "kmod.py").write_text(KERNELS)
    cache = tmp_path / "cache"
    _run(tmp_path, cache, preload=False, call=True)
    for f in _numba_dir(cache).rglob("kmod.outer-*"):
        f.unlink()
    (_numba_dir(cache) / "preload" / "feed.json").unlink()
    # Act: outer compiles and loads inner from the cache while it does
    res = _run(tmp_path, cache, preload=False, call=True)
    # Assert: only what Python called is listed
    assert res["compiles"] >= 1 and res["value"] == 41
    assert res["manifest"] == [["kmod", "outer"]]


def test_recorder_when_kernel_loaded_from_cache_then_listed_and_lists_merge(tmp_path):
    # Arrange: a warm cache and no list (the cache was filled before lists existed)
    (tmp_path / "kmod.py").write_text(KERNELS)
    cache = tmp_path / "cache"
    _run(tmp_path, cache, preload=False, call=True)
    manifest = _numba_dir(cache) / "preload" / "feed.json"
    manifest.unlink()
    (_numba_dir(cache) / "preload" / "risk.json").write_text(json.dumps(
        {"process": "risk", "kernels": [["kmod", "gone_kernel"]]}))
    # Act: a process loads outer from the cache (no compile event), then saves its list
    res = _run(tmp_path, cache, preload=False, call=True)
    # Assert: listed through numba's cache hits; both processes' lists are read
    assert res["compiles"] == 0
    assert json.loads(manifest.read_text())["kernels"] == [["kmod", "outer"]]
    assert res["manifest"] == [["kmod", "gone_kernel"], ["kmod", "outer"]]
    # a listed name that is no kernel is skipped and said, the rest still loaded
    res = _run(tmp_path, cache, preload=True, call=False)
    assert res["report"]["loaded"] == 1 and res["compiles_in_preload"] == 0
    assert len(res["report"]["skipped"]) == 1 and "gone_kernel" in res["report"]["skipped"][0]


def test_preload_when_no_list_then_says_so(tmp_path):
    from appliance.supervisor.kernel_preload import preload_kernels

    rep = preload_kernels(tmp_path)
    assert rep.listed == 0 and rep.loaded == 0
    assert "no kernel list" in rep.summary()
