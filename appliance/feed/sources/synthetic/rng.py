"""xoshiro256** inside numba: a random stream whose state is a uint64[4] array.

The synthetic kernels draw as many numbers as the market needs (a Hawkes burst
draws more than a quiet second), so they cannot take a pre-drawn pool of fixed
size; numba's own ``np.random`` is one global stream per thread, which two
sources open at once would share. A tiny generator whose state lives in an array
the source owns gives a stream that depends on the seed alone.

Every constant is a ``np.uint64``: numba turns ``uint64 op int64`` into float64.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_U7 = np.uint64(7)
_U9 = np.uint64(9)
_U5 = np.uint64(5)
_U11 = np.uint64(11)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U64 = np.uint64(64)
_INV_2_53 = 1.0 / 9007199254740992.0


def seed_state(seed: int, stream: int) -> np.ndarray:
    """The uint64[4] state of stream ``stream`` of ``seed`` (never all zero)."""
    st = np.random.SeedSequence([int(seed), int(stream), 0x5EED]).generate_state(4, np.uint64)
    if not st.any():
        st[0] = 1
    return st


@njit(inline="always", cache=True)
def _rotl(x, k):
    return (x << k) | (x >> (_U64 - k))


@njit(cache=True)
def next_u64(s):
    result = _rotl(s[1] * _U5, _U7) * _U9
    t = s[1] << _U17
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], _U45)
    return result


@njit(cache=True)
def uniform(s) -> float:
    """In [0, 1)."""
    return float(next_u64(s) >> _U11) * _INV_2_53


@njit(cache=True)
def exponential(s) -> float:
    """Mean 1."""
    return -math.log(1.0 - uniform(s))


@njit(cache=True)
def normal(s) -> float:
    """Standard normal (Box-Muller, one value per two uniforms)."""
    u1 = 1.0 - uniform(s)
    u2 = uniform(s)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def fill_normal(s, out) -> None:
    """Fill ``out`` with standard normals, two per Box-Muller draw."""
    n = out.shape[0]
    for i in range(0, n, 2):
        r = math.sqrt(-2.0 * math.log(1.0 - uniform(s)))
        a = 2.0 * math.pi * uniform(s)
        out[i] = r * math.cos(a)
        if i + 1 < n:
            out[i + 1] = r * math.sin(a)


@njit(cache=True)
def poisson(s, lam: float) -> int:
    """Knuth's product method below 30, a rounded normal above."""
    if lam <= 0.0:
        return 0
    if lam > 30.0:
        k = int(math.floor(lam + math.sqrt(lam) * normal(s) + 0.5))
        return k if k > 0 else 0
    limit = math.exp(-lam)
    k = 0
    p = uniform(s)
    while p > limit:
        k += 1
        p *= uniform(s)
    return k
