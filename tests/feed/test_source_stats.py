"""SourceStats reset in place, and the replay check's errors."""

from __future__ import annotations

import pytest

from appliance.feed.source_stats import MAX_MALFORMED_REASONS, ReplayError, SourceStats, check_replay


def test_reset_when_pass_restarts_then_same_object_zeroed():
    s = SourceStats(lines=5, events=3, book_from_diffs=True)
    s.malformed_line("line 1: bad")
    held = s
    s.reset()
    assert held is s and s.to_dict() == SourceStats().to_dict()


def test_malformed_line_when_many_then_only_the_first_reasons_kept():
    s = SourceStats()
    for i in range(MAX_MALFORMED_REASONS + 3):
        s.malformed_line(f"line {i}")
    assert s.malformed == MAX_MALFORMED_REASONS + 3
    assert s.malformed_reasons == [f"line {i}" for i in range(MAX_MALFORMED_REASONS)]


def test_check_replay_when_no_events_then_error_with_the_reason():
    s = SourceStats(lines=10, skipped=10)
    with pytest.raises(ReplayError, match="0 events from 10 lines.*10 skipped.*coin ETH"):
        check_replay(s, "replay:x", 0.01, why_no_events="coin ETH asked for")


def test_check_replay_when_too_many_malformed_then_error_unless_allowed():
    s = SourceStats(lines=100, events=97)
    for i in range(3):
        s.malformed_line(f"line {i}: missing field 'pu'")
    with pytest.raises(ReplayError, match=r"3 of 100 lines malformed \(3.00%.*missing field 'pu'"):
        check_replay(s, "replay:x", 0.02)
    check_replay(s, "replay:x", 0.02, allow_malformed=True)
    check_replay(s, "replay:x", 0.03)
