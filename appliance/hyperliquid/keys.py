"""The signing key: loaded from an owner-only file or an environment variable, never
printed, logged, pickled or exported. Only its address is public."""

from __future__ import annotations

import os
import stat
import threading

import coincurve
from coincurve._libsecp256k1 import ffi as _ffi
from coincurve._libsecp256k1 import lib as _lib

from .keccak import keccak256

DEFAULT_KEY_ENV = "MM_HL_PRIVATE_KEY"
_HEX = frozenset("0123456789abcdefABCDEF")


class KeyLoadError(ValueError):
    """The key could not be loaded. The message never contains key material."""


def address_from_public_key(uncompressed65: bytes) -> str:
    """Lower-case 0x address: last 20 bytes of keccak(x || y)."""
    return "0x" + keccak256(uncompressed65[1:])[12:].hex()


def to_checksum_address(address: str) -> str:
    """EIP-55 mixed-case form of a 0x address."""
    lower = address.lower().removeprefix("0x")
    digest = keccak256(lower.encode()).hex()
    pairs = zip(lower, digest[:40], strict=True)
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in pairs)


def _parse_secret(text: str, where: str) -> bytes:
    hex_part = text.strip()
    if hex_part[:2] in ("0x", "0X"):
        hex_part = hex_part[2:]
    if len(hex_part) != 64 or not set(hex_part) <= _HEX:
        # Say what is wrong without echoing any of it.
        raise KeyLoadError(f"{where}: expected a secp256k1 private key as 64 hex digits "
                           f"(optionally 0x-prefixed), got {len(hex_part)} characters")
    secret = bytes.fromhex(hex_part)
    if int.from_bytes(secret, "big") == 0:
        raise KeyLoadError(f"{where}: the private key is zero")
    return secret


_sign_recoverable = _lib.secp256k1_ecdsa_sign_recoverable
_serialize_compact = _lib.secp256k1_ecdsa_recoverable_signature_serialize_compact
_buffers = threading.local()


def _thread_buffers() -> tuple:
    """This thread's signature struct, 65-byte output and recovery-id cell, made once:
    coincurve's `sign_recoverable` allocates them on every call (~2 us of the ~35 us)."""
    try:
        return _buffers.b
    except AttributeError:
        out = _ffi.new("unsigned char[65]")
        _buffers.b = (_ffi.new("secp256k1_ecdsa_recoverable_signature *"), out,
                      _ffi.new("int *"), _ffi.buffer(out))
        return _buffers.b


class SigningKey:
    """A secp256k1 key that signs 32-byte digests. `repr`/`str` show the address only."""

    __slots__ = ("_ctx", "_pk", "address")

    def __init__(self, secret: bytes) -> None:
        try:
            self._pk = coincurve.PrivateKey(secret)
        except ValueError as err:
            raise KeyLoadError("the private key is not a valid secp256k1 scalar") from err
        self._ctx = self._pk.context.ctx
        self.address: str = address_from_public_key(self._pk.public_key.format(compressed=False))

    @classmethod
    def from_hex(cls, text: str) -> SigningKey:
        return cls(_parse_secret(text, "private key"))

    def checksum_address(self) -> str:
        return to_checksum_address(self.address)

    def sign_digest(self, digest32: bytes) -> bytes:
        """65 bytes r || s || recovery id (0/1); deterministic (RFC 6979), low-s.

        libsecp256k1 called directly with this thread's reused buffers: the same bytes
        as coincurve's `sign_recoverable(digest32, hasher=None)` (a test), less Python."""
        if len(digest32) != 32:
            raise ValueError("the digest must be 32 bytes")
        sig, out, recid, buf = _thread_buffers()
        if not _sign_recoverable(self._ctx, sig, digest32, self._pk.secret, _ffi.NULL, _ffi.NULL):
            raise ValueError("libsecp256k1 could not sign (invalid key or nonce failure)")
        _serialize_compact(self._ctx, out, recid, sig)
        out[64] = recid[0]
        return buf[:]

    def __repr__(self) -> str:
        return f"SigningKey(address={self.address}, secret=<redacted>)"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):
        # Keeps the secret out of pickles, multiprocessing queues and shared memory.
        raise TypeError("SigningKey cannot be pickled; load the key in the process that signs")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SigningKey) and other.address == self.address

    def __hash__(self) -> int:
        return hash(self.address)


def load_key(path: str | os.PathLike | None = None, env_var: str = DEFAULT_KEY_ENV) -> SigningKey:
    """Load the key from `path` (must be owner-only, e.g. mode 600) or, when no path is
    given, from the environment variable `env_var`. Hex with or without 0x."""
    if path is not None:
        path = os.fspath(path)
        try:
            st = os.stat(path)
        except OSError as err:
            raise KeyLoadError(f"key file {path}: {err.strerror}") from None
        if not stat.S_ISREG(st.st_mode):
            raise KeyLoadError(f"key file {path} is not a regular file")
        if st.st_mode & 0o077:
            raise KeyLoadError(
                f"key file {path} has mode {stat.S_IMODE(st.st_mode):04o}: group or others can "
                f"access it; refusing to use it. Fix: chmod 600 {path}")
        try:
            with open(path, encoding="ascii", errors="replace") as f:
                text = f.read()
        except OSError as err:
            raise KeyLoadError(f"key file {path}: {err.strerror}") from None
        return SigningKey(_parse_secret(text, f"key file {path}"))
    text = os.environ.get(env_var)
    if not text:
        raise KeyLoadError(f"no key: pass --key-file (an owner-only file, chmod 600) or set {env_var}")
    return SigningKey(_parse_secret(text, f"environment variable {env_var}"))
