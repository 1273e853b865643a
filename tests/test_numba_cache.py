"""The numba cache directory follows the sources: a change to any source file gives a
new directory (so no kernel loads machine code compiled against old callees), the same
sources give the same one, children inherit it, old versions are pruned."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import appliance
from appliance import numba_cache


@pytest.fixture
def cache_base(tmp_path, monkeypatch):
    """configure() against a temporary base; the process's own directory after."""
    monkeypatch.setenv("HL_MM_CACHE_DIR", str(tmp_path))
    yield tmp_path
    monkeypatch.undo()
    numba_cache.configure()


def _tree(tmp_path: Path) -> Path:
    for root in ("appliance/quote", "shm_layout"):
        (tmp_path / root).mkdir(parents=True)
    (tmp_path / "appliance/quote/kernel.py").write_text("def f():\n    return 1\n")
    (tmp_path / "shm_layout/records.py").write_text("X = 1\n")
    return tmp_path


def test_source_hash_when_any_source_changes_then_differs(tmp_path):
    base = _tree(tmp_path)
    before = numba_cache.source_hash(base)
    assert numba_cache.source_hash(base) == before  # the same sources, the same key
    (base / "shm_layout/records.py").write_text("X = 2\n")  # a callee's file
    assert numba_cache.source_hash(base) != before


def test_source_hash_ignores_pycache_and_other_files(tmp_path):
    base = _tree(tmp_path)
    before = numba_cache.source_hash(base)
    (base / "appliance/quote/__pycache__").mkdir()
    (base / "appliance/quote/__pycache__/kernel.f-1.py311.nbi").write_bytes(b"old")
    (base / "appliance/quote/notes.txt").write_text("x")
    assert numba_cache.source_hash(base) == before


def test_configure_when_imported_then_numba_and_children_use_the_key_directory(cache_base):
    tmp_path = cache_base
    cache_dir = numba_cache.configure()
    key = numba_cache.source_hash(Path(appliance.__file__).resolve().parent.parent)
    assert cache_dir == tmp_path / f"numba-{key}" and cache_dir.is_dir()
    import numba.core.config

    assert numba.core.config.CACHE_DIR == str(cache_dir) == os.environ["NUMBA_CACHE_DIR"]
    out = subprocess.run([sys.executable, "-c", "import os, appliance; print(os.environ['NUMBA_CACHE_DIR'])"],
                         capture_output=True, text=True, check=True, env=os.environ.copy())
    assert out.stdout.strip() == str(cache_dir)  # a child computes the same directory


def test_configure_when_new_version_then_old_keys_pruned_to_keep(cache_base):
    tmp_path = cache_base
    for i in range(5):
        d = tmp_path / f"numba-old{i}"
        d.mkdir()
        os.utime(d, (1_000_000 + i, 1_000_000 + i))
    current = numba_cache.configure()
    left = sorted(p.name for p in tmp_path.glob("numba-*"))
    assert left == sorted([current.name, "numba-old4", "numba-old3"])


def test_configure_when_other_key_used_within_the_hour_then_kept(cache_base):
    for i in range(5):
        (cache_base / f"numba-busy{i}").mkdir()  # mtime now: other checkouts running
    current = numba_cache.configure()
    assert len(list(cache_base.glob("numba-*"))) == 6 and current.is_dir()


def test_configure_when_under_systemd_cache_directory_then_used(tmp_path, monkeypatch):
    monkeypatch.delenv("HL_MM_CACHE_DIR", raising=False)
    monkeypatch.setenv("CACHE_DIRECTORY", str(tmp_path))  # CacheDirectory=mm in the unit
    try:
        assert numba_cache.configure().parent == tmp_path
    finally:
        monkeypatch.undo()
        numba_cache.configure()
