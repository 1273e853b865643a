"""Key loading (owner-only file, env var, redaction) and the per-signer nonce manager."""

import logging
import os
import pickle
import threading

import pytest

from appliance.hyperliquid.keys import KeyLoadError, SigningKey, load_key
from appliance.hyperliquid.nonces import NonceManager
from appliance.hyperliquid.signing import L1Signer, action_hash, recover_l1_signer, sign_l1_action

KEY_HEX = "0123456789012345678901234567890123456789012345678901234567890123"
ADDRESS = "0x14791697260e4c9a71f18484c9f997b308e59325"
ENV = "MM_HL_PRIVATE_KEY_TEST"


def _key_file(tmp_path, text: str, mode: int):
    path = tmp_path / "agent.key"
    path.write_text(text)
    os.chmod(path, mode)
    return path


@pytest.mark.parametrize("text", [KEY_HEX, "0x" + KEY_HEX, "0x" + KEY_HEX.upper() + "\n", f"  {KEY_HEX}\n"])
def test_load_key_when_owner_only_file_then_address(tmp_path, text):
    key = load_key(_key_file(tmp_path, text, 0o600))
    assert key.address == ADDRESS
    assert key.checksum_address() == "0x14791697260E4c9A71f18484C9f997B308e59325"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_load_key_when_group_or_world_readable_then_refused_with_fix(tmp_path, mode):
    path = _key_file(tmp_path, KEY_HEX, mode)
    with pytest.raises(KeyLoadError) as exc:
        load_key(path)
    msg = str(exc.value)
    assert str(path) in msg and f"chmod 600 {path}" in msg and f"{mode:04o}" in msg
    assert KEY_HEX not in msg


def test_load_key_when_env_var_then_loaded_and_missing_env_then_clear_error(monkeypatch):
    monkeypatch.setenv(ENV, "0x" + KEY_HEX)
    assert load_key(env_var=ENV).address == ADDRESS
    monkeypatch.delenv(ENV)
    with pytest.raises(KeyLoadError, match=f"--key-file .* or set {ENV}"):
        load_key(env_var=ENV)


@pytest.mark.parametrize("bad", ["zz" * 32, KEY_HEX[:-2], KEY_HEX + "00", "0" * 64, "f" * 64])
def test_load_key_when_malformed_then_error_without_the_text(tmp_path, bad):
    with pytest.raises(KeyLoadError) as exc:
        load_key(_key_file(tmp_path, bad, 0o600))
    assert bad not in str(exc.value)


def test_load_key_when_file_missing_then_error_names_path(tmp_path):
    with pytest.raises(KeyLoadError, match="nope.key"):
        load_key(tmp_path / "nope.key")


def test_signing_key_when_printed_logged_or_pickled_then_secret_never_shown(tmp_path, caplog):
    key = load_key(_key_file(tmp_path, KEY_HEX, 0o600))
    shown = [repr(key), str(key), f"{key}", f"{key!r}", repr([key]), repr(L1Signer(key, True))]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("key %s %r", key, key)
        logging.getLogger("test").debug("signer %s", L1Signer(key, False))
    shown.append(caplog.text)
    for text in shown:
        assert KEY_HEX not in text.lower()
        assert ADDRESS in text.lower()
    assert not hasattr(key, "__dict__")  # no vars(key) leak
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)


def test_sign_when_signed_then_recover_returns_signer():
    key = SigningKey.from_hex(KEY_HEX)
    action = {"type": "noop"}
    sig = sign_l1_action(key, action, None, 5, None, True)
    assert recover_l1_signer(action, None, 5, None, True, sig) == key.address
    with pytest.raises(ValueError, match="v must be"):
        recover_l1_signer(action, None, 5, None, True, dict(sig, v=30))


def test_nonce_manager_when_same_ms_then_bumped_past_last():
    nm = NonceManager()
    assert [nm.next(1000) for _ in range(3)] == [1000, 1001, 1002]
    assert nm.next(1001) == 1003      # clock behind the last nonce: still increasing
    assert nm.next(5000) == 5000      # clock ahead: the clock wins
    nm.observe(9000)
    assert nm.next(5001) == 9001
    assert nm.last == 9001


def test_nonce_manager_when_wall_clock_then_near_now():
    import time
    n = NonceManager().next()
    assert abs(n - time.time() * 1000) < 5_000


def test_nonce_manager_when_many_threads_then_all_unique_and_increasing_per_thread():
    nm = NonceManager()
    per_thread: list[list[int]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def work(out):
        start.wait()
        for _ in range(5_000):
            out.append(nm.next())

    threads = [threading.Thread(target=work, args=(out,)) for out in per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [n for out in per_thread for n in out]
    assert len(set(every)) == len(every) == 40_000
    for out in per_thread:
        assert all(a < b for a, b in zip(out, out[1:], strict=False))
    assert nm.last == max(every)


def test_l1_signer_when_bodies_then_distinct_nonces_and_recoverable():
    key = SigningKey.from_hex(KEY_HEX)
    signer = L1Signer(key, is_mainnet=False, vault="0x1719884EB866CB12B2287399B15F7DB5E7D775EA")
    b1, b2 = signer.body({"type": "noop"}), signer.body({"type": "noop"})
    assert b2["nonce"] > b1["nonce"]
    assert b1["vaultAddress"] == "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
    assert recover_l1_signer(b1["action"], b1["vaultAddress"], b1["nonce"], None, False,
                             b1["signature"]) == key.address


def test_sign_digest_when_many_keys_threads_and_digests_then_coincurves_bytes():
    # the direct libsecp256k1 call with per-thread buffers signs what coincurve signs
    keys = [SigningKey(os.urandom(32)) for _ in range(4)]
    digests = [os.urandom(32) for _ in range(50)]
    want = {(i, j): k._pk.sign_recoverable(d, hasher=None)
            for i, k in enumerate(keys) for j, d in enumerate(digests)}
    got: dict = {}

    def sign_all(i: int) -> None:
        for j, d in enumerate(digests):
            got[(i, j)] = keys[i].sign_digest(d)

    threads = [threading.Thread(target=sign_all, args=(i,)) for i in range(len(keys))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == want
    with pytest.raises(ValueError, match="32 bytes"):
        keys[0].sign_digest(b"short")


def test_action_hash_when_a_previous_action_failed_to_pack_then_next_hash_unchanged():
    # the thread's reused msgpack Packer must not keep bytes of an action that raised
    action = {"type": "cancel", "cancels": [{"a": 0, "o": 7}]}
    before = action_hash(action, None, 1, None)
    with pytest.raises(TypeError):
        action_hash({"type": "cancel", "bad": object()}, None, 1, None)
    assert action_hash(action, None, 1, None) == before
