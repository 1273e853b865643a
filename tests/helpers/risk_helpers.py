"""Shared builders for the risk tests: a RiskView over real segments and writers of
the blocks and rings it reads."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from appliance.config import load_config
from appliance.ipc import byte_rows, ring, seqlock
from appliance.risk import checks
from shm_layout import InstanceMemory, records

DAY_S = 86_400
NOON = 20_000 * DAY_S + DAY_S / 2  # some UTC day, 12:00


def make_view(mem, tmp_path, **risk):
    over = {"appliance": {"coins": ["BTC", "ETH"]}}
    if risk:
        over["risk"] = risk
    cfg = load_config(overrides=over)
    return checks.RiskView(cfg, mem, str(tmp_path / "KILL"), time.monotonic_ns())


@contextmanager
def fresh_segments(tag: str) -> Iterator[InstanceMemory]:
    """A segment set of its own, unlinked afterwards."""
    instance = f"{tag}{os.getpid()}"
    InstanceMemory.unlink_all(instance)
    m = InstanceMemory.create(instance, lock=False)
    try:
        yield m
    finally:
        m.close()
        InstanceMemory.unlink_all(instance)


def set_position(mem, coin, **fields):
    rec = np.zeros(1, records.POSITION_STATE)
    for k, val in fields.items():
        rec[k] = val
    seqlock.write_block(mem.position.seqs, mem.position.rows, coin, byte_rows(rec)[0])


def set_params(mem, coin, **fields):
    rec = np.zeros(1, records.MARKET_PARAMS)
    for k, val in fields.items():
        rec[k] = val
    seqlock.write_block(mem.params.seqs, mem.params.rows, coin, byte_rows(rec)[0])


def publish_fill(mem, **fields):
    rec = np.zeros(1, records.FILL_EVENT)
    for k, val in fields.items():
        rec[k] = val
    ring.publish(mem.fills.ring_words, mem.fills.seqs, mem.fills.rows, byte_rows(rec)[0],
                 time.monotonic_ns())


def set_model_degraded(mem, coin, model=0, degraded_s=700.0):
    """The model scorer's block of ``coin`` with ``model`` flagged degraded."""
    rec = np.zeros(1, records.MODEL_SCORES)
    rec["n_models"] = 11
    rec["degraded"][0][model] = 1
    rec["degraded_s"][0][model] = degraded_s
    seqlock.write_block(mem.scores.seqs, mem.scores.rows, coin, byte_rows(rec)[0])
