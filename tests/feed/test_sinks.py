"""The websocket client's ring sink: MD_EVENT records go into the md ring by their used
bytes (issue 18), USER_EVENT records into the user ring whole."""

from __future__ import annotations

import os

import numpy as np

from appliance.feed.hyperliquid_ws.sinks import RingSink
from shm_layout import InstanceMemory
from shm_layout.constants import EV_BBO, EV_TRADE
from shm_layout.records import MD_EVENT, USER_EVENT, md_used_bytes


def test_ring_sink_when_md_events_then_each_slot_holds_its_used_length():
    inst = f"sink{os.getpid()}"
    mem = InstanceMemory.create(inst, lock=False)
    try:
        buf = np.zeros(4, MD_EVENT)
        buf["kind"][:2] = EV_TRADE, EV_BBO
        buf["n_bids"][1] = buf["n_asks"][1] = 1
        buf["lv"]["bid_px"][1, 0], buf["lv"]["ask_px"][1, 0] = 99.5, 100.5
        md = RingSink(mem.md)
        md(buf, 2)
        slots = mem.md.records[1:3]
        assert md.published == 2 and list(slots["seq"]) == [1, 2]
        assert list(slots["used_bytes"]) == [md_used_bytes(0, 0), md_used_bytes(1, 1)]
        assert slots["lv"]["ask_px"][1, 0] == 100.5

        user = np.zeros(1, USER_EVENT)
        user["oid"] = 42
        RingSink(mem.user_ring)(user, 1)
        assert mem.user_ring.records[1]["oid"] == 42  # whole record, no length word
    finally:
        mem.close()
        InstanceMemory.unlink_all(inst)


def test_ring_sink_when_records_published_then_its_readers_rung_after_they_are_in_the_ring():
    inst = f"sinkb{os.getpid()}"
    mem = InstanceMemory.create(inst, lock=False)
    try:
        heads = []
        sink = RingSink(mem.user_ring, lambda: heads.append(int(mem.user_ring.records[1]["oid"])))
        user = np.zeros(1, USER_EVENT)
        user["oid"] = 7
        sink(user, 1)
        assert heads == [7]  # rung once, with the record already readable
    finally:
        mem.close()
        InstanceMemory.unlink_all(inst)
