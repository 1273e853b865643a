"""The venue's wall clock on the wire: milliseconds since the epoch.

What a client's nonces and staleness checks compare against; the matching engine
runs on the market's own clock (``VenueState.market_now_ms``).
"""

import time


def now_ms() -> int:
    return time.time_ns() // 1_000_000
