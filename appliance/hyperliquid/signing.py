"""Hyperliquid signatures, byte-identical to hyperliquid-python-sdk 0.24.0.

L1 actions (orders, cancels, modifies, scheduleCancel, ...), signed by the account or
an agent (API) wallet:

    action_hash = keccak(msgpack(action) || nonce u64 BE || vault part || expires part)
        vault part   = 00 | 01 || 20 address bytes
        expires part = (nothing) | 00 || expiresAfter u64 BE
    phantom agent = Agent{source: "a" mainnet | "b" testnet, connectionId: action_hash}
    digest = keccak(19 01 || domainSeparator(Exchange, 1, 1337, 0x0) || hashStruct(agent))

User-signed actions (usdSend, withdraw3, approveAgent, ...) are EIP-712 over the action
fields in the domain HyperliquidSignTransaction / chainId = int(signatureChainId).

EIP-712 is hashed by hand with precomputed type hashes and domain separators: eth_account
builds and validates the whole typed-data tree per call, which is what makes the SDK slow.
Signatures are {"r": hex(int), "s": hex(int), "v": 27|28}: like the SDK's `to_hex`, r and
s carry no leading zeros.
"""

from __future__ import annotations

import threading

import coincurve
import msgpack

from .keccak import keccak256
from .keys import SigningKey, address_from_public_key
from .nonces import NonceManager

_local = threading.local()
_ZERO32 = bytes(32)

EIP712_DOMAIN_TYPE = b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
EIP712_DOMAIN_TYPEHASH = keccak256(EIP712_DOMAIN_TYPE)
AGENT_TYPE = b"Agent(string source,bytes32 connectionId)"
AGENT_TYPEHASH = keccak256(AGENT_TYPE)
L1_CHAIN_ID = 1337
USER_SIGNED_CHAIN_ID_HEX = "0x66eee"  # what the SDK always writes (Arbitrum Sepolia, 421614)


def domain_separator(name: str, version: str, chain_id: int) -> bytes:
    """EIP-712 domain separator with verifyingContract = 0x0 (both Hyperliquid domains)."""
    return keccak256(EIP712_DOMAIN_TYPEHASH + keccak256(name.encode()) + keccak256(version.encode())
                     + chain_id.to_bytes(32, "big") + _ZERO32)


L1_DOMAIN_SEPARATOR = domain_separator("Exchange", "1", L1_CHAIN_ID)
_L1_DIGEST_PREFIX = b"\x19\x01" + L1_DOMAIN_SEPARATOR
# hashStruct(Agent) = keccak(typehash || keccak(source) || connectionId); index by is_mainnet.
_AGENT_PREFIX = (AGENT_TYPEHASH + keccak256(b"b"), AGENT_TYPEHASH + keccak256(b"a"))

# Types whose /exchange body carries vaultAddress null (the subaccount goes in the action).
_NO_VAULT_IN_BODY = frozenset(("usdClassTransfer", "sendAsset"))


# -- L1 actions -----------------------------------------------------------------------

def _packb(action: dict | list) -> bytes:
    """msgpack.packb with this thread's reused Packer (packb builds one per call, ~0.7 us)."""
    try:
        return _local.packer.pack(action)
    except AttributeError:
        _local.packer = msgpack.Packer()
        return _local.packer.pack(action)


def action_hash(action: dict | list, vault: str | None, nonce: int, expires_after: int | None) -> bytes:
    """keccak256 of the msgpack'ed action (insertion key order), nonce, vault, expiresAfter."""
    data = _packb(action) + nonce.to_bytes(8, "big")
    if vault is None:
        data += b"\x00"
    else:
        data += b"\x01" + bytes.fromhex(vault[2:] if vault.startswith("0x") else vault)
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return keccak256(data)


def l1_digest(connection_id: bytes, is_mainnet: bool) -> bytes:
    """The EIP-712 digest of the phantom agent for an action hash."""
    return keccak256(_L1_DIGEST_PREFIX + keccak256(_AGENT_PREFIX[bool(is_mainnet)] + connection_id))


def _as_key(key) -> SigningKey:
    if isinstance(key, SigningKey):
        return key
    if isinstance(key, str):
        return SigningKey.from_hex(key)
    if isinstance(key, bytes | bytearray):
        return SigningKey(bytes(key))
    raise TypeError("key must be a SigningKey (see appliance.hyperliquid.keys.load_key)")


def _signature_dict(sig65: bytes) -> dict:
    # hex() of the bytes without leading zeros is the SDK's hex(int) (0.6 vs 1.0 us)
    return {"r": "0x" + (sig65[:32].hex().lstrip("0") or "0"),
            "s": "0x" + (sig65[32:64].hex().lstrip("0") or "0"),
            "v": 27 + sig65[64]}


def sign_l1_action(key: SigningKey, action: dict | list, vault: str | None, nonce: int,
                   expires_after: int | None, is_mainnet: bool) -> dict:
    """SDK `sign_l1_action`: returns {"r","s","v"}. The action is hashed exactly as given."""
    if type(key) is not SigningKey:
        key = _as_key(key)
    digest = l1_digest(action_hash(action, vault, nonce, expires_after), is_mainnet)
    return _signature_dict(key.sign_digest(digest))


def _sig65(signature: dict) -> bytes:
    try:
        r, s, v = signature["r"], signature["s"], int(signature["v"])
        r = int(r, 16) if isinstance(r, str) else int(r)
        s = int(s, 16) if isinstance(s, str) else int(s)
        recid = v - 27 if v >= 27 else v
        if recid not in (0, 1):
            raise ValueError(f"v must be 27 or 28, got {v}")
        return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes((recid,))
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise ValueError(f"malformed signature: {err}") from None


def recover_from_digest(digest: bytes, signature: dict) -> str:
    """Lower-case 0x address that produced `signature` over `digest`."""
    try:
        pub = coincurve.PublicKey.from_signature_and_message(_sig65(signature), digest, hasher=None)
    except (ValueError, TypeError) as err:
        raise ValueError(f"signature does not recover: {err}") from None
    return address_from_public_key(pub.format(compressed=False))


def recover_l1_signer(action: dict | list, vault: str | None, nonce: int, expires_after: int | None,
                      is_mainnet: bool, signature: dict) -> str:
    """The signer (lower-case 0x address) of an L1 action; a changed action, nonce, vault
    or network recovers a different address (the venue's "User or API Wallet ... does
    not exist")."""
    return recover_from_digest(l1_digest(action_hash(action, vault, nonce, expires_after), is_mainnet),
                               signature)


# -- user-signed actions ------------------------------------------------------------------

def _fields(*pairs: str) -> tuple[dict, ...]:
    return tuple({"name": n, "type": t} for n, t in (p.split(":") for p in pairs))


_CHAIN = "hyperliquidChain:string"
# action type -> (EIP-712 primary type, fields), as the SDK's sign_* helpers define them.
USER_SIGNED_TYPES: dict[str, tuple[str, tuple[dict, ...]]] = {
    "usdSend": ("HyperliquidTransaction:UsdSend",
                _fields(_CHAIN, "destination:string", "amount:string", "time:uint64")),
    "spotSend": ("HyperliquidTransaction:SpotSend",
                 _fields(_CHAIN, "destination:string", "token:string", "amount:string", "time:uint64")),
    "withdraw3": ("HyperliquidTransaction:Withdraw",
                  _fields(_CHAIN, "destination:string", "amount:string", "time:uint64")),
    "usdClassTransfer": ("HyperliquidTransaction:UsdClassTransfer",
                         _fields(_CHAIN, "amount:string", "toPerp:bool", "nonce:uint64")),
    "sendAsset": ("HyperliquidTransaction:SendAsset",
                  _fields(_CHAIN, "destination:string", "sourceDex:string", "destinationDex:string",
                          "token:string", "amount:string", "fromSubAccount:string", "nonce:uint64")),
    "approveAgent": ("HyperliquidTransaction:ApproveAgent",
                     _fields(_CHAIN, "agentAddress:address", "agentName:string", "nonce:uint64")),
    "approveBuilderFee": ("HyperliquidTransaction:ApproveBuilderFee",
                          _fields(_CHAIN, "maxFeeRate:string", "builder:address", "nonce:uint64")),
    "tokenDelegate": ("HyperliquidTransaction:TokenDelegate",
                      _fields(_CHAIN, "validator:address", "wei:uint64", "isUndelegate:bool",
                              "nonce:uint64")),
    "userDexAbstraction": ("HyperliquidTransaction:UserDexAbstraction",
                           _fields(_CHAIN, "user:address", "enabled:bool", "nonce:uint64")),
    "userSetAbstraction": ("HyperliquidTransaction:UserSetAbstraction",
                           _fields(_CHAIN, "user:address", "abstraction:string", "nonce:uint64")),
    "convertToMultiSigUser": ("HyperliquidTransaction:ConvertToMultiSigUser",
                              _fields(_CHAIN, "signers:string", "nonce:uint64")),
}

_typehash_cache: dict[tuple, bytes] = {}
_user_domain_cache: dict[int, bytes] = {}


def _typehash(primary_type: str, payload_types) -> bytes:
    key = (primary_type, tuple((f["name"], f["type"]) for f in payload_types))
    th = _typehash_cache.get(key)
    if th is None:
        enc = f"{primary_type}({','.join(f'{t} {n}' for n, t in key[1])})"
        th = _typehash_cache[key] = keccak256(enc.encode())
    return th


def _encode_value(typ: str, value) -> bytes:
    if typ == "string":
        return keccak256(value.encode())
    if typ == "address":
        raw = bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
        if len(raw) != 20:
            raise ValueError(f"address must be 20 bytes, got {value!r}")
        return bytes(12) + raw
    if typ == "bool":
        return (1 if value else 0).to_bytes(32, "big")
    if typ.startswith("uint"):
        return int(value).to_bytes(32, "big")
    if typ == "bytes32":
        raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
        if len(raw) != 32:
            raise ValueError("bytes32 value must be 32 bytes")
        return raw
    raise ValueError(f"unsupported EIP-712 field type {typ!r}")


def user_signed_digest(message: dict, payload_types, primary_type: str) -> bytes:
    """EIP-712 digest of a user-signed action; the chain id comes from
    message["signatureChainId"]; fields not in `payload_types` are ignored."""
    chain_id = int(message["signatureChainId"], 16)
    dom = _user_domain_cache.get(chain_id)
    if dom is None:
        dom = _user_domain_cache[chain_id] = domain_separator("HyperliquidSignTransaction", "1", chain_id)
    parts = [_typehash(primary_type, payload_types)]
    for field in payload_types:
        parts.append(_encode_value(field["type"], message[field["name"]]))
    return keccak256(b"\x19\x01" + dom + keccak256(b"".join(parts)))


def sign_user_signed_action(key: SigningKey, action: dict, payload_types, primary_type: str,
                            is_mainnet: bool) -> dict:
    """SDK `sign_user_signed_action`: like the SDK it *adds* signatureChainId = 0x66eee and
    hyperliquidChain = Mainnet|Testnet to `action` (they are part of the posted body)."""
    action["signatureChainId"] = USER_SIGNED_CHAIN_ID_HEX
    action["hyperliquidChain"] = "Mainnet" if is_mainnet else "Testnet"
    return _signature_dict(_as_key(key).sign_digest(user_signed_digest(action, payload_types, primary_type)))


def recover_user_signed_signer(action: dict, signature: dict, payload_types, primary_type: str,
                               is_mainnet: bool) -> str:
    """Lower-case 0x address that signed a user-signed action (action is not mutated)."""
    message = dict(action, hyperliquidChain="Mainnet" if is_mainnet else "Testnet")
    return recover_from_digest(user_signed_digest(message, payload_types, primary_type), signature)


# -- the /exchange body ---------------------------------------------------------------------

def exchange_body(action: dict, nonce: int, signature: dict, vault: str | None,
                  expires_after: int | None) -> dict:
    """The exact dict the SDK posts to /exchange, keys in its order."""
    return {
        "action": action,
        "nonce": nonce,
        "signature": signature,
        "vaultAddress": None if action.get("type") in _NO_VAULT_IN_BODY else vault,
        "expiresAfter": expires_after,
    }


class L1Signer:
    """One signing key with its nonce manager, network and vault: `body(action)` returns
    the signed /exchange body. Share one instance per key across threads."""

    __slots__ = ("expires_after", "is_mainnet", "key", "nonces", "vault")

    def __init__(self, key: SigningKey, is_mainnet: bool, vault: str | None = None,
                 nonces: NonceManager | None = None, expires_after: int | None = None) -> None:
        self.key = _as_key(key)
        self.is_mainnet = bool(is_mainnet)
        self.vault = None if vault is None else vault.lower()
        self.nonces = nonces if nonces is not None else NonceManager()
        self.expires_after = expires_after

    def body(self, action: dict, nonce: int | None = None) -> dict:
        if nonce is None:
            nonce = self.nonces.next()
        sig = sign_l1_action(self.key, action, self.vault, nonce, self.expires_after, self.is_mainnet)
        return exchange_body(action, nonce, sig, self.vault, self.expires_after)

    def __repr__(self) -> str:
        return f"L1Signer(address={self.key.address}, mainnet={self.is_mainnet}, vault={self.vault})"
