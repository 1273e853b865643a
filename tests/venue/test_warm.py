"""The venue compiles its kernels before it listens: after ``warm_engine`` in a fresh
process every matching entry point the server calls has machine code, so no client
request waits on a compile (and a failure to warm never stops the venue)."""

import subprocess
import sys

from appliance.venue.matching.warm import warm_engine

PROBE = """
from appliance.venue.matching import book, entry
from appliance.venue.matching.views import CoinSpec
from appliance.venue.matching.warm import warm_engine
kernels = [book.on_market_events, entry.place_order, entry.modify_order, entry.cancel_order,
           entry.update_leverage]
before = [len(k.signatures) for k in kernels]
warm_engine([CoinSpec("BTC", 5, 40), CoinSpec("ETH", 4, 25)])
print(before, [len(k.signatures) for k in kernels])
"""


def test_warm_engine_when_fresh_process_then_every_entry_point_compiled():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         timeout=600)
    line = out.stdout.strip().splitlines()[-1]
    before, after = line.split("] [")
    assert all(n == 0 for n in map(int, before.strip("[").split(",")))
    assert all(n >= 1 for n in map(int, after.strip("]").split(","))), out.stdout + out.stderr


def test_warm_engine_when_engine_cannot_be_built_then_logs_and_returns(caplog):
    assert warm_engine([]) >= 0.0  # no coin: nothing to warm, no exception
    assert "warming the matching kernels failed" in caplog.text
