"""Software prefetch of the events ahead of the backtest loop.

An MD_EVENT is 896 bytes (14 cache lines) and the whole capture (84 MB for the BTCUSDT
file) is far larger than the caches, so every event arrives cold: the matching stage,
the first to read its prices, used to wait on four misses per BBO (two lines since
the levels are interleaved, issue 18). The loop asks for
the lines of event ``i + PREFETCH_AHEAD`` while it works on event ``i``. Prefetching
changes no value, only when a line arrives. Written by hand: numba has no prefetch;
this is LLVM's ``llvm.prefetch`` intrinsic, as ``ipc.atomics`` wraps ``rdtsc``.
"""

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from shm_layout.records import MD_EVENT, MD_LEVEL_BYTES, MD_LEVELS_AT

PREFETCH_AHEAD = 4  # events; measured 4 and 8 alike (each event takes ~1 us)
LINE_B = 64
# The lines every kind reads: the header and the best level of each side (a book
# snapshot streams its deeper levels, which the hardware prefetcher follows).
# Since issue 18 the best level follows the header: lines 0 and 1.
HOT_LINES_B = tuple(sorted({0, *(off // LINE_B * LINE_B
                                 for off in (MD_EVENT.fields["px"][1], MD_LEVELS_AT,
                                             MD_LEVELS_AT + MD_LEVEL_BYTES - 1))}))


@intrinsic
def prefetch_read(typingctx, arr, index, offset_b):
    """Hint the CPU to load the cache line at ``offset_b`` bytes into ``arr[index]``
    (``index`` must be in bounds; no value changes)."""

    def codegen(context, builder, sig, args):
        aty = sig.args[0]
        ary = context.make_array(aty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aty, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        line = builder.gep(builder.bitcast(ptr, i8p), [args[2]])
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [line, i32(0), i32(3), i32(1)])  # read, keep in all levels, data
        return context.get_dummy_value()

    return types.void(arr, index, offset_b), codegen


@njit(cache=True, inline="always")
def prefetch_event(evs, i):
    """Prefetch the hot lines of ``evs[i]``; nothing when ``i`` is past the end."""
    if i < evs.shape[0]:
        for off in HOT_LINES_B:
            prefetch_read(evs, i, off)
