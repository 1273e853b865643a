"""Every vector in the shared signing-vectors file, reproduced by appliance.hyperliquid."""

import json
from pathlib import Path

import msgpack
import pytest

from appliance.hyperliquid.keys import SigningKey
from appliance.hyperliquid.signing import (
    AGENT_TYPEHASH,
    EIP712_DOMAIN_TYPEHASH,
    L1_DOMAIN_SEPARATOR,
    USER_SIGNED_TYPES,
    action_hash,
    domain_separator,
    l1_digest,
    recover_l1_signer,
    recover_user_signed_signer,
    sign_l1_action,
    sign_user_signed_action,
    user_signed_digest,
)
from appliance.hyperliquid.wire import float_to_int_for_hashing, float_to_wire, order_action, order_wire

VECTORS_PATH = (Path(__file__).resolve().parents[2].parent / "shared" / "reference"
                / "hyperliquid-signing-vectors.json")
if not VECTORS_PATH.exists():
    pytest.skip(f"signing vectors missing: {VECTORS_PATH}", allow_module_level=True)
VEC = json.loads(VECTORS_PATH.read_text())

L1 = [v for v in VEC["vectors"] if v["kind"] == "l1_action"] + VEC["extra_not_upstream"]["expires_after"]
USER = [v for v in VEC["vectors"] if v["kind"] == "user_signed_action"]
HASH_ONLY = [v for v in VEC["vectors"] if v["kind"] == "action_hash"]


def _id(v) -> str:
    net = "main" if v["is_mainnet"] else "test"
    return f"{v.get('test', 'extra')}-{net}-{v['action']['type'] if 'action' in v else ''}"


def _expected_sig(v) -> dict:
    return v.get("expected_signature") or v["signature_sdk_0_24_0"]


def test_constants_when_computed_by_hand_then_match_vectors_file():
    c = VEC["constants"]
    assert "0x" + L1_DOMAIN_SEPARATOR.hex() == c["l1_domain_separator"]
    assert "0x" + AGENT_TYPEHASH.hex() == c["Agent_typehash"]
    assert "0x" + EIP712_DOMAIN_TYPEHASH.hex() == c["EIP712Domain_typehash"]
    assert "0x" + domain_separator("HyperliquidSignTransaction", "1", 0x66EEE).hex() == \
        c["user_signed_domain_separator_0x66eee"]


@pytest.mark.parametrize("v", HASH_ONLY, ids=_id)
def test_phantom_agent_connection_id_when_order_built_then_matches_production(v):
    req = v["sdk_order_request"]
    wire = order_wire(v["asset"], req["is_buy"], req["limit_px"], req["sz"], req["reduce_only"],
                      req["order_type"]["limit"]["tif"], req["cloid"])
    action = order_action([wire])
    assert action == v["action"]
    assert msgpack.packb(action).hex() == v["computed_by_sdk_0_24_0"]["msgpack_action_hex"]
    h = action_hash(action, v["vault_address"], v["nonce"], v["expires_after"])
    assert "0x" + h.hex() == v["expected_connection_id"]


@pytest.mark.parametrize("v", L1, ids=_id)
def test_sign_l1_action_when_vector_then_signature_hash_and_digest_reproduced(v):
    key = SigningKey.from_hex(v["private_key"])
    sdk = v["computed_by_sdk_0_24_0"]
    assert msgpack.packb(v["action"]).hex() == sdk["msgpack_action_hex"]
    h = action_hash(v["action"], v["vault_address"], v["nonce"], v["expires_after"])
    assert "0x" + h.hex() == sdk["action_hash"]
    assert "0x" + l1_digest(h, v["is_mainnet"]).hex() == sdk["eip712_digest"]
    sig = sign_l1_action(key, v["action"], v["vault_address"], v["nonce"], v["expires_after"],
                         v["is_mainnet"])
    assert sig == _expected_sig(v)
    signer = recover_l1_signer(v["action"], v["vault_address"], v["nonce"], v["expires_after"],
                               v["is_mainnet"], sig)
    assert signer == key.address
    if "signer_address" in v:
        assert signer == v["signer_address"].lower()
        assert key.checksum_address() == v["signer_address"]


@pytest.mark.parametrize("v", USER, ids=lambda v: v["test"])
def test_sign_user_signed_when_vector_then_signature_and_message_reproduced(v):
    key = SigningKey.from_hex(v["private_key"])
    action = dict(v["message_input"])
    sig = sign_user_signed_action(key, action, v["eip712_types"], v["primary_type"], v["is_mainnet"])
    assert action == v["message_as_signed"]  # fields added in the SDK's order
    assert list(action) == list(v["message_as_signed"])
    assert "0x" + user_signed_digest(action, v["eip712_types"], v["primary_type"]).hex() == \
        v["computed_by_sdk_0_24_0"]["eip712_digest"]
    assert sig == v["expected_signature"]
    assert recover_user_signed_signer(action, sig, v["eip712_types"], v["primary_type"],
                                      v["is_mainnet"]) == v["signer_address"].lower()
    # The registry knows this type with the same field list.
    registered = {pt: list(f) for pt, f in USER_SIGNED_TYPES.values()}
    assert registered[v["primary_type"]] == v["eip712_types"]


@pytest.mark.parametrize("case", VEC["float_to_int_for_hashing"], ids=lambda c: str(c["input"]))
def test_float_to_int_for_hashing_when_vector_then_same(case):
    if case["expected"] == "ValueError":
        with pytest.raises(ValueError):
            float_to_int_for_hashing(case["input"])
    else:
        assert float_to_int_for_hashing(case["input"]) == case["expected"]


@pytest.mark.parametrize("case", VEC["extra_not_upstream"]["float_to_wire_samples"], ids=lambda c: c["input"])
def test_float_to_wire_when_sample_then_same_string_or_error(case):
    if case["output"] == "ValueError":
        with pytest.raises(ValueError, match="float_to_wire causes rounding"):
            float_to_wire(float(case["input"]))
    else:
        assert float_to_wire(float(case["input"])) == case["output"]


def test_recover_when_action_tampered_then_different_address():
    v = next(x for x in L1 if x["action"]["type"] == "order")
    key = SigningKey.from_hex(v["private_key"])
    sig = sign_l1_action(key, v["action"], None, v["nonce"], None, v["is_mainnet"])
    tampered = json.loads(json.dumps(v["action"]))
    tampered["orders"][0]["p"] = "100.0"  # a trailing zero: the classic "wallet does not exist"
    assert recover_l1_signer(tampered, None, v["nonce"], None, v["is_mainnet"], sig) != key.address
    assert recover_l1_signer(v["action"], None, v["nonce"] + 1, None, v["is_mainnet"], sig) != key.address
    assert recover_l1_signer(v["action"], None, v["nonce"], None, not v["is_mainnet"], sig) != key.address
