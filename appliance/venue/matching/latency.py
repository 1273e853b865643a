"""Latency model for order entry and market data: constant, or a floor plus a
lognormal, from a seeded xorshift64* generator kept in the LATENCY_CFG record
(so the server and the backtester draw the same sequence for the same seed)."""

import math

import numpy as np
from numba import njit

from shm_layout.venue_records import LAT_CONSTANT, LAT_LOGNORMAL, LATENCY_CFG

_MUL = np.uint64(0x2545F4914F6CDD1D)


@njit(cache=True)
def next_u01(cfg) -> float:
    """Uniform in (0, 1) from the record's xorshift64* state."""
    x = cfg.rng_state
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    cfg.rng_state = x
    r = (x * _MUL) >> np.uint64(11)
    return (float(r) + 0.5) / 9007199254740992.0


@njit(cache=True)
def sample_latency_ns(cfg) -> int:
    """One latency draw in ns: ``const_ns`` (LAT_CONSTANT) or
    ``const_ns + median_ns * exp(sigma * z)`` with z standard normal (LAT_LOGNORMAL)."""
    if cfg.mode != LAT_LOGNORMAL or cfg.sigma <= 0.0:
        return cfg.const_ns
    u1 = next_u01(cfg)
    u2 = next_u01(cfg)
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return cfg.const_ns + int(cfg.median_ns * math.exp(cfg.sigma * z))


def new_latency(mode: str = "constant", const_ns: int = 0, median_ns: float = 0.0,
                sigma: float = 0.0, seed: int = 1) -> np.ndarray:
    """A LATENCY_CFG[1] array; ``mode`` is "constant" or "lognormal"."""
    a = np.zeros(1, dtype=LATENCY_CFG)
    a[0]["mode"] = LAT_LOGNORMAL if mode == "lognormal" else LAT_CONSTANT
    a[0]["const_ns"] = const_ns
    a[0]["median_ns"] = median_ns
    a[0]["sigma"] = sigma
    # splitmix the seed so small seeds differ in every bit; never 0
    z = (seed + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    a[0]["rng_state"] = (z ^ (z >> 31)) or 1
    return a
