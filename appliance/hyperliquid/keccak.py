"""keccak256 (Ethereum's, not NIST SHA3-256) on pycryptodome's C core.

`Crypto.Hash.keccak.new(...)` costs ~5 us per call here, mostly Python object setup;
reusing one C state per thread (reset, absorb, digest) costs ~1.3 us. Signing hashes
three times per action, so this is a tenth of the signing budget.
"""

from __future__ import annotations

import threading

from Crypto.Hash import keccak as _keccak

try:
    from Crypto.Util import _raw_api

    _FAST = _raw_api.backend == "cffi"
except ImportError:  # pragma: no cover - pycryptodome always ships _raw_api
    _FAST = False

_lib = _keccak._raw_keccak_lib
_local = threading.local()


def _new_state():
    ffi = _raw_api.ffi
    holder = ffi.new("void **")
    if _lib.keccak_init(holder, 64, 24):  # capacity 2*32 bytes, 24 rounds = keccak256
        raise RuntimeError("keccak_init failed")
    state = ffi.gc(holder[0], _lib.keccak_destroy)
    out = ffi.new("uint8_t[32]")
    return state, out, ffi.buffer(out)


def _keccak256_fast(data: bytes) -> bytes:
    try:
        state, out, buf = _local.s
    except AttributeError:
        state, out, buf = _local.s = _new_state()
    _lib.keccak_reset(state)
    _lib.keccak_absorb(state, data, len(data))
    _lib.keccak_digest(state, out, 32, 1)  # padding 0x01 = original Keccak
    return buf[:]


def _keccak256_slow(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=data).digest()


keccak256 = _keccak256_fast if _FAST else _keccak256_slow
