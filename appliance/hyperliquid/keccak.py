"""keccak256 (Ethereum's, not NIST SHA3-256; hashlib has only the latter).

safe-pysha3's C type costs ~1 us per 96-byte call here, against ~2.1 us for one reused
pycryptodome state driven through cffi (three foreign calls and a buffer copy) and ~5 us
for `Crypto.Hash.keccak.new`. Signing hashes three times per action, so this is a tenth
of the signing budget (BENCHMARKS "Signing").
"""

from __future__ import annotations

from sha3 import keccak_256 as _keccak_256


def keccak256(data: bytes) -> bytes:
    return _keccak_256(data).digest()
