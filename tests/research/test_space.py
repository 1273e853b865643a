"""A search's space file: ranges typed by the schema, choices, and every mistake an
error that names the key."""

from __future__ import annotations

import pytest

from appliance.config import load_config
from appliance.research.space import SpaceError, parse_space


@pytest.fixture(scope="module")
def base():
    return load_config()


def test_space_when_ranges_and_choices_then_typed_by_schema(base):
    text = ('"quote.gamma" = {low = 0.05, high = 1.0, log = true}\n'
            "[quote]\nmin_spread_bps = {low = 2.0, high = 20.0, step = 2.0}\n"
            "[backtest]\nchunk_events = {choices = [4096, 65536]}\n")
    space = parse_space(text, base)
    assert space.keys == ("quote.gamma", "quote.min_spread_bps", "backtest.chunk_events")
    g, s, c = space.dims
    assert (g.kind, g.low, g.high, g.log) == ("float", 0.05, 1.0, True)
    assert (s.kind, s.step) == ("float", 2.0)
    assert (c.kind, c.choices) == ("choice", (4096, 65536))


@pytest.mark.parametrize(("text", "needle"), [
    ('"quote.gamm" = {low = 0.1, high = 1.0}', "unknown key 'gamm'"),
    ('"quote.gamma" = {low = 1.0, high = 0.1}', "below high"),
    ('"quote.gamma" = {low = 0.1}', "give low and high"),
    ('"quote.gamma" = {low = 0.0, high = 1.0, log = true}', "log needs low > 0"),
    ('"quote.gamma" = {low = 0.1, high = 1.0, hihg = 2}', "unknown field"),
    ('"quote.gamma" = [0.1, 0.3]', "expected a table"),
    ('"quote.gamma" = {choices = []}', "non-empty"),
    ('"quote.gamma" = {low = -5.0, high = 1.0}', "quote.gamma"),
    ("", "no keys"),
])
def test_space_when_mistake_then_error_names_it(base, text, needle):
    with pytest.raises(SpaceError, match=needle):
        parse_space(text, base)
