"""Estimator state written under one layout is never read under another: the layout
hash covers every estimator's dtype, a build with a changed dtype refuses the old
segments naming the estimator, and a block whose directory differs starts cold."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from risk_helpers import fresh_segments

from appliance.config import load_config
from appliance.estimator import kernel
from appliance.estimator.process import resume_or_start_cold
from shm_layout import InstanceMemory, records, segments
from shm_layout.estimators import (
    ESTIMATOR_STATE,
    ESTIMATORS,
    LAYOUT_DIRECTORY,
    REGISTRY,
    changed_estimators,
    layout_directory,
)

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mem() -> Iterator[InstanceMemory]:
    with fresh_segments("test") as m:
        yield m


def _with_field_changed(name: str, new_state: np.dtype) -> np.dtype:
    fields = [(n, new_state if n == name else ESTIMATOR_STATE.fields[n][0]) for n in ESTIMATOR_STATE.names]
    return np.dtype(fields, align=True)


def test_registry_when_listed_then_each_estimator_is_a_field_of_the_state_and_the_hash():
    assert ESTIMATOR_STATE.names == ("header",) + tuple(m.NAME for m in REGISTRY)
    description = segments.layout_description()
    for m in REGISTRY:
        assert f"{m.NAME}:" in description, m.NAME  # the hash text names every estimator


def test_changed_estimators_when_one_dtype_gains_a_field_then_only_it_is_named():
    last = ESTIMATORS[-1]  # the last in state order: growing it moves no other estimator
    fs = ESTIMATOR_STATE.fields[last][0]
    grown = np.dtype(fs.descr + [("n_big_fills", "<i8")])
    changed = changed_estimators(LAYOUT_DIRECTORY, layout_directory(_with_field_changed(last, grown)))
    assert len(changed) == 1 and changed[0].startswith(f"{last} ")


def _vol_with_n_samples_as_f8() -> np.dtype:
    vol = ESTIMATOR_STATE.fields["vol"][0]
    fields = {n: vol.fields[n] for n in vol.names}
    return np.dtype({"names": list(vol.names),
                     "formats": ["<f8" if n == "n_samples" else fields[n][0] for n in vol.names],
                     "offsets": [fields[n][1] for n in vol.names], "itemsize": vol.itemsize})


def test_changed_estimators_when_a_field_retyped_then_named():
    vol = _vol_with_n_samples_as_f8()  # same bytes and offsets, one field another type
    assert vol.itemsize == ESTIMATOR_STATE.fields["vol"][0].itemsize
    changed = changed_estimators(LAYOUT_DIRECTORY, layout_directory(_with_field_changed("vol", vol)))
    assert [c.split()[0] for c in changed] == ["vol"]


def test_resume_when_block_written_under_another_vol_layout_then_cold_start_naming_vol(mem, caplog):
    cfg = kernel.config_vector(load_config().estimator, ("BTC",))
    log = logging.getLogger("estimator-test")
    block = mem.estate.records[0:1]
    assert resume_or_start_cold(block, cfg, "BTC", log) is False  # first start: cold
    block[0]["state"]["header"]["n_events"] = 123
    with caplog.at_level(logging.INFO):
        assert resume_or_start_cold(block, cfg, "BTC", log) is True
    assert "resuming warm after 123 events" in caplog.text
    # The same block as a build whose vol state differed would have left it.
    old = layout_directory(_with_field_changed("vol", _vol_with_n_samples_as_f8()))
    block[0]["layouts"] = old
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert resume_or_start_cold(block, cfg, "BTC", log) is False
    assert "estimator state layout changed" in caplog.text and "vol (stored" in caplog.text
    assert block[0]["state"]["header"]["n_events"] == 0  # cold, not misread
    assert (block[0]["layouts"] == LAYOUT_DIRECTORY).all()


def test_restart_when_estimator_built_with_a_changed_dtype_then_refuses_the_state_naming_it(
    mem, tmp_path
):
    """A real restart of the estimator process from changed code: a copy of
    ``shm_layout`` whose fill_size state has one more field shadows the real one."""
    cfg = kernel.config_vector(load_config().estimator, ("BTC",))
    block = mem.estate.records[0:1]
    resume_or_start_cold(block, cfg, "BTC", logging.getLogger("estimator-test"))
    block[0]["state"]["header"]["n_events"] = 500  # state worth keeping
    build = tmp_path / "changed_build"
    shutil.copytree(ROOT / "shm_layout", build / "shm_layout",
                    ignore=shutil.ignore_patterns("__pycache__"))
    decl = build / "shm_layout" / "estimators" / "fill_size.py"
    text = decl.read_text()
    assert '("n_ask_fills", "<i8"),\n' in text
    decl.write_text(text.replace('("n_ask_fills", "<i8"),\n',
                                 '("n_ask_fills", "<i8"),\n        ("n_big_fills", "<i8"),\n'))
    env = {**os.environ, "PYTHONPATH": f"{build}{os.pathsep}{ROOT}"}
    proc = subprocess.run([sys.executable, "-m", "appliance.estimator", "--instance", mem.estate.instance],
                          cwd=build, env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode != 0
    assert "estimator state layout changed: fill_size (stored" in proc.stderr, proc.stderr[-2000:]
    assert block[0]["state"]["header"]["n_events"] == 500  # the old state untouched
    assert int(mem.control.header[0]["layout_hash"]) == segments.LAYOUT_HASH


def test_estimator_block_when_declared_then_directory_at_its_fixed_offset():
    assert records.ESTIMATOR_BLOCK.fields["layouts"][1] == records.LAYOUT_DIRECTORY_OFFSET
    assert records.ESTIMATOR_BLOCK.fields["seq"][1] == 0
