"""Memory-ordering intrinsics for numba code that shares memory with other processes.

A plain ``@njit`` loop that polls ``a[i]`` may never see another process's store:
LLVM proves the loop body does not write ``a[i]`` and hoists the load out of the
loop. An atomic load cannot be hoisted. On x86 an acquire load and a release store
compile to plain moves (the hardware keeps that order); what they buy is that the
compiler keeps them, and every access, where the source put them.

All functions take a 1-d int64 array (any stride, e.g. ``records["seq"]``) and an
index, and work on that element in place.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _element_pointer(context, builder, aryty, ary_val, idx_val, idxty):
    ary = context.make_array(aryty)(context, builder, ary_val)
    idx = context.cast(builder, idx_val, idxty, types.intp)
    return cgutils.get_item_pointer(context, builder, aryty, ary, [idx], wraparound=False)


def _check(arr):
    return isinstance(arr, types.Array) and arr.ndim == 1 and arr.dtype in (types.int64, types.uint64)


@intrinsic
def load_acquire(typingctx, arr, idx):
    """``arr[idx]`` as an acquire load: later reads cannot move before it."""
    if not (_check(arr) and isinstance(idx, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        return builder.load_atomic(ptr, ordering="acquire", align=8)

    return arr.dtype(arr, idx), codegen


@intrinsic
def load_relaxed(typingctx, arr, idx):
    """``arr[idx]`` read from memory every time (never hoisted), no ordering."""
    if not (_check(arr) and isinstance(idx, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        return builder.load_atomic(ptr, ordering="monotonic", align=8)

    return arr.dtype(arr, idx), codegen


@intrinsic
def store_release(typingctx, arr, idx, value):
    """``arr[idx] = value`` as a release store: earlier writes are visible first."""
    if not (_check(arr) and isinstance(idx, types.Integer) and isinstance(value, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        val = context.cast(builder, args[2], sig.args[2], sig.args[0].dtype)
        builder.store_atomic(val, ptr, ordering="release", align=8)
        return context.get_dummy_value()

    return types.void(arr, idx, value), codegen


def _fence(ordering: str):
    @intrinsic
    def fence(typingctx):
        def codegen(context, builder, sig, args):
            builder.fence(ordering)
            return context.get_dummy_value()

        return types.void(), codegen

    return fence


# acquire: earlier loads complete before later loads and stores (seqlock read side).
fence_acquire = _fence("acquire")
# release: earlier loads and stores complete before later stores (seqlock write side).
fence_release = _fence("release")
# seq_cst: a full barrier (mfence on x86), for store-then-load handshakes.
fence_seq_cst = _fence("seq_cst")


@intrinsic
def cpu_relax(typingctx):
    """x86 ``pause``: tells the core this is a spin-wait (saves power, frees the
    sibling hyperthread). Emitted as the LLVM intrinsic, so no inline-asm parser
    is needed."""

    def codegen(context, builder, sig, args):
        mod = builder.module
        fnty = ir.FunctionType(ir.VoidType(), [])
        fn = cgutils.get_or_insert_function(mod, fnty, "llvm.x86.sse2.pause")
        builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def cycle_counter(typingctx):
    """The CPU's timestamp counter (``rdtsc``): a clock for numba code, in cycles."""

    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(ir.IntType(64), [])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.readcyclecounter")
        return builder.call(fn, [])

    return types.int64(), codegen
