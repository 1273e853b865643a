"""Prefix publishing on the md ring (issue 18): a trade or a BBO moves its used bytes
only, a full book all of them, and a reader's row past the used prefix is left alone.
The layout side (header and level 0 in two cache lines, the used-length word where the
ring looks for it) is held here too, beside the ring that relies on it."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import numpy as np
import pytest

from appliance.feed.md_publish import publish_md, publish_md_many
from appliance.ipc import ring
from shm_layout import SEGMENT_BY_NAME, InstanceMemory, create
from shm_layout.constants import BOOK_DEPTH, CACHE_LINE, EV_BBO, EV_BOOK, EV_TRADE
from shm_layout.records import MD_EVENT, MD_LEVELS_AT, md_used_bytes
from shm_layout.shm import Segment

_counter = itertools.count()
STALE = 0xA5  # what a reader's row held before the read


@pytest.fixture
def md() -> Iterator[Segment]:
    name = f"test{os.getpid()}p{next(_counter)}"
    seg = create(name, SEGMENT_BY_NAME["md"], lock=False)
    try:
        yield seg
    finally:
        seg.close()
        InstanceMemory.unlink_all(name)


def _event(kind: int, levels: int) -> np.ndarray:
    ev = np.zeros(1, MD_EVENT)
    ev["kind"], ev["coin"], ev["px"], ev["sz"], ev["trade_id"] = kind, 2, 100.25, 0.5, 77
    ev["n_bids"] = ev["n_asks"] = levels
    lv = ev["lv"][0]
    lv["bid_px"][:levels] = 100.0 - np.arange(levels)
    lv["ask_px"][:levels] = 100.5 + np.arange(levels)
    lv["bid_sz"][:levels] = lv["ask_sz"][:levels] = 1.0 + np.arange(levels)
    lv["bid_n"][:levels] = lv["ask_n"][:levels] = 3
    return ev


def _read_prefix(seg: Segment, cursor: int) -> tuple[int, np.ndarray]:
    dst = np.full(MD_EVENT.itemsize, STALE, np.uint8)
    return int(ring.read_prefix(seg.ring_words, seg.seqs, seg.rows, cursor, dst)), dst


def test_layout_when_md_event_then_header_and_level_0_in_two_lines():
    level0_end = MD_LEVELS_AT + MD_EVENT.fields["lv"][0].base.itemsize
    assert level0_end <= 2 * CACHE_LINE
    assert MD_EVENT.fields["used_bytes"][1] == ring.USED_BYTES_AT
    assert MD_EVENT.fields["used_bytes"][0] == np.dtype("<u2")
    assert md_used_bytes(0, 0) == MD_LEVELS_AT <= 2 * CACHE_LINE
    assert md_used_bytes(1, 1) == md_used_bytes(1, 0) == level0_end
    assert md_used_bytes(BOOK_DEPTH, 3) == md_used_bytes(200, 0) <= MD_EVENT.itemsize


@pytest.mark.parametrize(("kind", "levels"), [(EV_TRADE, 0), (EV_BBO, 1), (EV_BOOK, 5),
                                              (EV_BOOK, BOOK_DEPTH)])
def test_read_prefix_when_published_by_publish_md_then_used_bytes_only(md, kind, levels):
    ev = _event(kind, levels)
    src = ev.view(np.uint8)
    assert int(publish_md(md.ring_words, md.seqs, md.rows, src, 5)) == 1
    st, dst = _read_prefix(md, 1)
    used = md_used_bytes(levels, levels)
    assert st == ring.READY
    got = dst.view(MD_EVENT)
    assert got["seq"][0] == 1 and got["used_bytes"][0] == used
    same = np.ones(used, bool)
    same[:8] = False  # seq
    same[ring.USED_BYTES_AT:ring.USED_BYTES_AT + 2] = False  # the ring's word
    assert (dst[:used][same] == src[:used][same]).all()
    assert (dst[used:] == STALE).all(), "past the used prefix the reader's row is untouched"
    for f in ("kind", "coin", "px", "sz", "trade_id", "n_bids", "n_asks"):
        assert got[f][0] == ev[f][0], f
    for f in ("bid_px", "bid_sz", "ask_px", "ask_sz", "bid_n", "ask_n"):
        assert (got["lv"][f][0, :levels] == ev["lv"][f][0, :levels]).all(), f


def test_read_prefix_when_slot_held_a_book_then_bbo_reads_its_own_levels(md):
    book, bbo = _event(EV_BOOK, BOOK_DEPTH), _event(EV_BBO, 1)
    bbo["lv"]["bid_px"][0, 0] = 99.75
    cap = md.spec.n_records
    rows = np.concatenate([book.view(np.uint8)[None, :]] * cap + [bbo.view(np.uint8)[None, :]])
    publish_md_many(md.ring_words, md.seqs, md.rows, rows, 0, cap + 1, 9)  # the BBO laps slot 1
    st, dst = _read_prefix(md, cap + 1)
    got = dst.view(MD_EVENT)
    assert st == ring.READY and got["kind"][0] == EV_BBO and got["n_bids"][0] == 1
    assert got["lv"]["bid_px"][0, 0] == 99.75
    # the slot still holds the book's deeper levels; the reader did not copy them
    assert (dst[md_used_bytes(1, 1):] == STALE).all()


def test_read_prefix_when_record_published_whole_then_whole_copy(md):
    ev = _event(EV_BOOK, BOOK_DEPTH)
    src = ev.view(np.uint8)
    ring.publish(md.ring_words, md.seqs, md.rows, src, 1)  # used_bytes 0 in the source
    st, dst = _read_prefix(md, 1)
    assert st == ring.READY and dst[8:].tobytes() == src[8:].tobytes()


def test_read_next_prefix_when_events_then_each_in_order_and_empty_after(md):
    rows = np.concatenate([_event(EV_TRADE, 0).view(np.uint8)[None, :],
                           _event(EV_BBO, 1).view(np.uint8)[None, :],
                           _event(EV_BOOK, 7).view(np.uint8)[None, :]])
    publish_md_many(md.ring_words, md.seqs, md.rows, rows, 0, 3, 1)
    cursors = np.array([1, 0], np.int64)
    dst = np.zeros(MD_EVENT.itemsize, np.uint8)
    kinds = []
    while ring.read_next_prefix(md.ring_words, md.seqs, md.rows, cursors, 0, dst):
        kinds.append(int(dst.view(MD_EVENT)["kind"][0]))
    assert kinds == [EV_TRADE, EV_BBO, EV_BOOK] and cursors[0] == 4 and cursors[1] == 0
