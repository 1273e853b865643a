"""Sorting kappa's K-S sample (cold tier), by hand.

Why not ``ndarray.sort()``: trade distances from the mid sit on a few tick multiples
(the BTCUSDT capture: ~59 distinct values in a sample of 256), and numba's quicksort
took 3.4x as long on such samples as this merge sort (insertion-sorted runs of 16,
then bottom-up merges; 5.2 vs 17.9 us per sort of 256, same run). Any correct sort
gives the same array here (no NaN: distances are ``abs()`` of finite prices), so the
test and the fit see the same numbers as before.

The sorted sample has long runs of equal values; ``kappa`` computes each libm call
(exp, log1p, pow) once per run instead of once per element: the same value added in
the same order, so the sums are bit-identical.
"""

import numpy as np
from numba import njit

RUN = 16  # insertion-sorted run length before merging


@njit(cache=True)
def sort_sample(x, n: int) -> None:
    """Sort ``x[:n]`` ascending in place (values without NaN)."""
    for s in range(0, n, RUN):
        e = min(s + RUN, n)
        for i in range(s + 1, e):
            v = x[i]
            j = i - 1
            while j >= s and x[j] > v:
                x[j + 1] = x[j]
                j -= 1
            x[j + 1] = v
    if n <= RUN:
        return
    tmp = np.empty(n)
    src, dst = x, tmp
    in_tmp = False
    w = RUN
    while w < n:
        for lo in range(0, n, 2 * w):
            mid = min(lo + w, n)
            hi = min(lo + 2 * w, n)
            i, j, o = lo, mid, lo
            while i < mid and j < hi:
                if src[j] < src[i]:
                    dst[o] = src[j]
                    j += 1
                else:
                    dst[o] = src[i]
                    i += 1
                o += 1
            while i < mid:
                dst[o] = src[i]
                i += 1
                o += 1
            while j < hi:
                dst[o] = src[j]
                j += 1
                o += 1
        src, dst = dst, src
        in_tmp = not in_tmp
        w *= 2
    if in_tmp:  # an odd number of merge passes left the result in tmp
        x[:n] = tmp[:n]
