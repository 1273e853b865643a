"""A numba scanner for the common ``l2Book`` frame, straight from bytes into an
MD_EVENT slot, with no Python object per level.

It accepts only the compact shape the venue sends:
``{"channel":"l2Book","data":{"coin":C,"levels":[[L,...],[L,...]],"time":T}}``
(data keys in any order, each level ``{"n":int,"px":"dec","sz":"dec"}`` in any
key order, at most BOOK_DEPTH levels a side, decimals of at most 15 digits).
Anything else (whitespace, escapes, exponents, extra keys, a non-positive price,
a bad time) returns FALLBACK and the frame takes the orjson path, which decides
between a valid event and a malformed frame. So the fast path never changes what
a frame decodes to; it only skips building Python objects.

Decimals: m (< 2**53) / 10**k (k <= 22, exact) is one correctly rounded
division, the same double ``float(str)`` gives.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from shm_layout.constants import BOOK_DEPTH, EV_BOOK

FALLBACK = -1
UNKNOWN_COIN = -2

_POW10 = np.array([10.0**k for k in range(23)])
_MAX_MS = (2**63 - 1) // 1_000_000


@njit(cache=True, inline="always")
def _dec(b, p, n):
    """Decimal string body at b[p:] up to the closing quote -> (value, p after quote);
    value -1.0 on any problem."""
    m = 0
    digits = 0
    frac = 0
    dot = False
    while p < n:
        c = b[p]
        if 48 <= c <= 57:
            m = m * 10 + (c - 48)
            digits += 1
            if dot:
                frac += 1
            if digits > 15:
                return -1.0, p
        elif c == 46 and not dot:
            dot = True
        elif c == 34:
            if digits == 0 or frac > 22:
                return -1.0, p
            return m / _POW10[frac], p + 1
        else:
            return -1.0, p
        p += 1
    return -1.0, p


@njit(cache=True, inline="always")
def _int(b, p, n):
    """Unsigned integer at b[p:] -> (value, p after it); value -1 on a problem."""
    v = 0
    digits = 0
    while p < n and 48 <= b[p] <= 57:
        v = v * 10 + (b[p] - 48)
        digits += 1
        if digits > 18:
            return -1, p
        p += 1
    if digits == 0:
        return -1, p
    return v, p


@njit(cache=True, inline="always")
def _key(b, p, n):
    """At a quote: key id (0 coin, 1 levels, 2 time, 3 n, 4 px, 5 sz, -1 other) and
    p after the colon."""
    if p >= n or b[p] != 34:
        return -1, p
    s = p + 1
    e = s
    while e < n and b[e] != 34:
        e += 1
    if e + 1 >= n or b[e + 1] != 58:
        return -1, p
    ln = e - s
    k = -1
    if ln == 1 and b[s] == 110:
        k = 3  # n
    elif ln == 2 and b[s] == 112 and b[s + 1] == 120:
        k = 4  # px
    elif ln == 2 and b[s] == 115 and b[s + 1] == 122:
        k = 5  # sz
    elif ln == 4 and b[s] == 99 and b[s + 1] == 111 and b[s + 2] == 105 and b[s + 3] == 110:
        k = 0  # coin
    elif ln == 4 and b[s] == 116 and b[s + 1] == 105 and b[s + 2] == 109 and b[s + 3] == 101:
        k = 2  # time
    elif (ln == 6 and b[s] == 108 and b[s + 1] == 101 and b[s + 2] == 118 and b[s + 3] == 101
          and b[s + 4] == 108 and b[s + 5] == 115):
        k = 1  # levels
    return k, e + 2


@njit(cache=True)
def _side(b, p, n, pxs, szs, cnts):
    """A ``[level, ...]`` array at b[p] -> (levels, p after it); -1 levels on a problem."""
    if p >= n or b[p] != 91:
        return -1, p
    p += 1
    cnt = 0
    if p < n and b[p] == 93:
        return 0, p + 1
    while p < n:
        if b[p] != 123 or cnt >= pxs.shape[0]:
            return -1, p
        p += 1
        got = 0
        px = -1.0
        sz = -1.0
        nn = -1
        while p < n:
            k, p = _key(b, p, n)
            if k == 3:
                nn, p = _int(b, p, n)
                if nn < 0 or nn >= 2**31:
                    return -1, p
                got |= 1
            elif k == 4 or k == 5:
                if p >= n or b[p] != 34:
                    return -1, p
                v, p = _dec(b, p + 1, n)
                if v < 0.0:
                    return -1, p
                if k == 4:
                    px = v
                    got |= 2
                else:
                    sz = v
                    got |= 4
            else:
                return -1, p
            if p < n and b[p] == 44:
                p += 1
                continue
            if p < n and b[p] == 125:
                p += 1
                break
            return -1, p
        if got != 7 or px <= 0.0:
            return -1, p
        pxs[cnt] = px
        szs[cnt] = sz
        cnts[cnt] = nn
        cnt += 1
        if p < n and b[p] == 44:
            p += 1
            continue
        if p < n and b[p] == 93:
            return cnt, p + 1
        return -1, p
    return -1, p


@njit(cache=True)
def scan_l2book(b, start, arr, rows, i, coin_names, coin_lens, recv_ns, gap, last_ts):
    """Parse the data object of an l2Book frame (b[start] is its ``{``) into
    ``arr[i]`` (zeroed first through ``rows``). Returns the coin index, FALLBACK or
    UNKNOWN_COIN. ``gap[c]`` is consumed into the flags; ``last_ts[c]`` advanced."""
    n = b.shape[0]
    p = start
    if p >= n or b[p] != 123:
        return FALLBACK
    p += 1
    rows[i, :] = 0
    r = arr[i]
    coin_s = -1
    coin_e = -1
    t = -1
    nb = -1
    na = -1
    while p < n:
        k, p = _key(b, p, n)
        if k == 0:
            if p >= n or b[p] != 34:
                return FALLBACK
            coin_s = p + 1
            e = coin_s
            while e < n and b[e] != 34:
                if b[e] == 92 or b[e] < 32 or b[e] >= 128:
                    return FALLBACK  # escapes, control bytes, non-ASCII: orjson decides
                e += 1
            coin_e = e
            p = e + 1
        elif k == 2:
            t, p = _int(b, p, n)
            if t <= 0 or t >= _MAX_MS:
                return FALLBACK
        elif k == 1:
            if p >= n or b[p] != 91:
                return FALLBACK
            nb, p = _side(b, p + 1, n, r.lv.bid_px, r.lv.bid_sz, r.lv.bid_n)
            if nb < 0 or p >= n or b[p] != 44:
                return FALLBACK
            na, p = _side(b, p + 1, n, r.lv.ask_px, r.lv.ask_sz, r.lv.ask_n)
            if na < 0 or p >= n or b[p] != 93:
                return FALLBACK
            p += 1
        else:
            return FALLBACK
        if p < n and b[p] == 44:
            p += 1
            continue
        if p < n and b[p] == 125:
            p += 1
            break
        return FALLBACK
    # the frame must end right after the data object
    if p + 1 != n or b[p] != 125 or coin_s < 0 or t < 0 or nb < 0:
        return FALLBACK
    ci = UNKNOWN_COIN
    ln = coin_e - coin_s
    for c in range(coin_names.shape[0]):
        if coin_lens[c] != ln:
            continue
        same = True
        for j in range(ln):
            if coin_names[c, j] != b[coin_s + j]:
                same = False
                break
        if same:
            ci = c
            break
    if ci < 0:
        return UNKNOWN_COIN
    ts = t * 1_000_000
    r.kind = EV_BOOK
    r.coin = ci
    r.n_bids = nb
    r.n_asks = na
    r.flags = gap[ci]
    gap[ci] = 0
    r.exch_ts_ns = ts
    r.recv_ts_ns = recv_ns
    if ts > last_ts[ci]:
        last_ts[ci] = ts
    return ci


def coin_table(coins) -> tuple[np.ndarray, np.ndarray]:
    enc = [c.encode() for c in coins]
    width = max(1, max(len(e) for e in enc))
    names = np.zeros((len(enc), width), np.uint8)
    lens = np.zeros(len(enc), np.int64)
    for k, e in enumerate(enc):
        names[k, : len(e)] = np.frombuffer(e, np.uint8)
        lens[k] = len(e)
    return names, lens


assert BOOK_DEPTH == 20  # the level arrays of MD_EVENT bound the scanner
