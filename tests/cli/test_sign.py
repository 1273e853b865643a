"""`mmctl sign` as a real subprocess: reproduces vectors, reports bad lines, hides the key."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

VECTORS_PATH = (Path(__file__).resolve().parents[2].parent / "shared" / "reference"
                / "hyperliquid-signing-vectors.json")
if not VECTORS_PATH.exists():
    pytest.skip(f"signing vectors missing: {VECTORS_PATH}", allow_module_level=True)
VEC = json.loads(VECTORS_PATH.read_text())
KEY_HEX = "0123456789012345678901234567890123456789012345678901234567890123"
MMCTL = [sys.executable, "-m", "appliance.cli"]


def _sign(lines: list[str], *args, env_key: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MM_HL_PRIVATE_KEY"}
    if env_key is not None:
        env["MM_HL_PRIVATE_KEY"] = env_key
    return subprocess.run([*MMCTL, "sign", *map(str, args)], input="".join(x + "\n" for x in lines),
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "agent.key"
    path.write_text("0x" + KEY_HEX + "\n")
    path.chmod(0o600)
    return path


def _l1_vectors():
    extra = VEC["extra_not_upstream"]["expires_after"]
    return [v for v in VEC["vectors"] if v["kind"] == "l1_action"] + extra


def _line(v) -> str:
    obj = {"action": v["action"], "nonce": v["nonce"], "expiresAfter": v["expires_after"]}
    if v["vault_address"]:
        obj["vaultAddress"] = v["vault_address"]
    return json.dumps(obj)


@pytest.mark.parametrize("network", ["mainnet", "testnet"])
def test_sign_when_vectors_on_stdin_then_each_body_reproduces_signature(key_file, network):
    vecs = [v for v in _l1_vectors() if v["is_mainnet"] == (network == "mainnet")]
    p = _sign([_line(v) for v in vecs], "--key-file", key_file, "--network", network)
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert len(out) == len(vecs)
    for v, text in zip(vecs, out, strict=True):
        body = json.loads(text)
        expected = v.get("expected_signature") or v["signature_sdk_0_24_0"]
        assert body == {"action": v["action"], "nonce": v["nonce"], "signature": expected,
                        "vaultAddress": v["vault_address"], "expiresAfter": v["expires_after"]}
        assert list(body) == ["action", "nonce", "signature", "vaultAddress", "expiresAfter"]
        assert list(body["action"]) == list(v["action"])  # key order kept as given
    assert "0x14791697260e4c9a71f18484c9f997b308e59325" in p.stderr


def test_sign_when_vault_option_then_used_for_every_line(key_file):
    v = next(x for x in _l1_vectors() if x["vault_address"] and x["is_mainnet"])
    line = json.dumps({"action": v["action"], "nonce": v["nonce"], "expiresAfter": None})
    p = _sign([line], "--key-file", key_file, "--vault", v["vault_address"])
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout)
    assert body["signature"] == v["expected_signature"] and body["vaultAddress"] == v["vault_address"]


def test_sign_when_user_signed_vector_then_body_reproduces(key_file):
    v = next(x for x in VEC["vectors"] if x["test"] == "test_sign_usd_transfer_action")
    action = dict(v["message_input"], type="usdSend")
    p = _sign([json.dumps({"action": action, "nonce": action["time"]})], "--key-file", key_file,
              "--network", "testnet")
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout)
    assert body["signature"] == v["expected_signature"]
    assert body["action"]["hyperliquidChain"] == "Testnet" and body["action"]["signatureChainId"] == "0x66eee"


def test_sign_when_bad_lines_then_numbered_errors_others_signed_exit_nonzero(key_file):
    good = _line(_l1_vectors()[0])
    lines = [good, "not json", '{"nonce": 1}', good, '{"action": {"type": "noop"}, "nonce": -1}',
             '{"action": {"type": "noop"}, "nonce": 3, "vaultAddress": "0x12"}']
    p = _sign(lines, "--key-file", key_file)
    assert p.returncode == 1
    assert len(p.stdout.splitlines()) == 2
    for n in (2, 3, 5, 6):
        assert f"line {n}:" in p.stderr
    assert "line 1:" not in p.stderr and "line 4:" not in p.stderr
    assert "4 line(s) failed" in p.stderr
    assert KEY_HEX not in p.stderr and KEY_HEX not in p.stdout


def test_sign_when_key_from_env_then_same_body_and_key_never_echoed(key_file):
    line = _line(_l1_vectors()[0])
    from_file = _sign([line], "--key-file", key_file)
    from_env = _sign([line], env_key=KEY_HEX)
    assert from_env.returncode == 0, from_env.stderr
    assert from_env.stdout == from_file.stdout
    assert KEY_HEX not in from_env.stderr


def test_sign_when_key_file_world_readable_then_refused_with_chmod_hint(key_file):
    key_file.chmod(0o644)
    p = _sign([_line(_l1_vectors()[0])], "--key-file", key_file)
    assert p.returncode != 0 and p.stdout == ""
    assert f"chmod 600 {key_file}" in p.stderr
    assert KEY_HEX not in p.stderr


def test_sign_when_no_key_then_clear_error():
    p = _sign(["{}"])
    assert p.returncode != 0
    assert "--key-file" in p.stderr and "MM_HL_PRIVATE_KEY" in p.stderr


def test_bench_sign_when_run_briefly_then_reports_signers_and_ratios(tmp_path):
    pytest.importorskip("hyperliquid", reason="needs hyperliquid-python-sdk (bench extra)")
    out = tmp_path / "sign.json"
    p = subprocess.run([*MMCTL, "bench", "sign", "--seconds", "0.1", "--repeats", "1", "--json", out],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    result = json.loads(out.read_text())
    assert set(result["median_per_s"]) == {"ours", "sdk", "ours_end_to_end", "bare_sign"}
    assert all(v > 0 for v in result["median_per_s"].values())
    assert result["ratio_ours_vs_sdk"] > 0 and "cpu_model" in result["machine"]
    assert result["ratio_ours_vs_bare_sign_cpu"] > 0 and "ours / sdk" in p.stdout
    assert "ours / bare sign" in p.stdout
