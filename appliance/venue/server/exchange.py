"""``POST /exchange``: authentication, nonces, address limit, then the action.

Order of checks: body shape (422) -> IP weight (429 null) -> signature -> signer
known -> vault -> expiresAfter -> nonce -> address cap -> action. Whole-request
errors answer ``{"status":"err","response":<text>}`` with HTTP 200, as the venue.
"""

from __future__ import annotations

from appliance.hyperliquid.signing import USER_SIGNED_TYPES, recover_l1_signer, recover_user_signed_signer

from . import actions
from .auth import normalize_address
from .clock import now_ms
from .info import DESERIALIZE
from .ratelimit import exchange_weight

L1_ACTIONS = ("order", "cancel", "cancelByCloid", "modify", "batchModify", "scheduleCancel",
              "updateLeverage", "noop", "updateIsolatedMargin")
USER_SIGNED_ACTIONS = ("approveAgent",)
UNSUPPORTED = ("twapOrder", "twapCancel", "usdSend", "spotSend", "withdraw3", "usdClassTransfer",
               "sendAsset", "approveBuilderFee", "createSubAccount", "subAccountTransfer",
               "vaultTransfer", "setReferrer", "reserveRequestWeight", "tokenDelegate")
ALL_ACTIONS = L1_ACTIONS + USER_SIGNED_ACTIONS + UNSUPPORTED


def err(text: str) -> tuple[int, dict]:
    return 200, {"status": "err", "response": text}


def _sig_ok(sig) -> bool:
    return (isinstance(sig, dict) and isinstance(sig.get("r"), str) and isinstance(sig.get("s"), str)
            and isinstance(sig.get("v"), int) and not isinstance(sig.get("v"), bool))


def _batch_len(action: dict) -> int:
    for key in ("orders", "cancels", "modifies"):
        v = action.get(key)
        if isinstance(v, list):
            return len(v)
    return 1


def handle_exchange(state, body, ip: str):
    if not isinstance(body, dict):
        return 422, DESERIALIZE + "invalid type: expected struct ExchangeRequest"
    for name in ("action", "nonce", "signature"):
        if name not in body:
            return 422, DESERIALIZE + f"missing field `{name}`"
    action, nonce, sig = body["action"], body["nonce"], body["signature"]
    if not isinstance(action, dict) or "type" not in action:
        return 422, DESERIALIZE + "action: missing field `type`"
    typ = action["type"]
    if typ not in ALL_ACTIONS:
        expected = ", ".join(f"`{t}`" for t in L1_ACTIONS + USER_SIGNED_ACTIONS)
        return 422, DESERIALIZE + f"action: unknown variant `{typ}`, expected one of {expected}"
    if not isinstance(nonce, int) or isinstance(nonce, bool) or nonce < 0:
        return 422, DESERIALIZE + "nonce: invalid type: expected u64"
    if not _sig_ok(sig):
        return 422, DESERIALIZE + "signature: invalid type: expected struct Signature {r, s, v}"
    vault_raw = body.get("vaultAddress")
    vault = None if vault_raw is None else normalize_address(vault_raw)
    if vault_raw is not None and vault is None:
        return 422, DESERIALIZE + "vaultAddress: invalid value: expected a 42-character hex address"
    expires = body.get("expiresAfter")
    if expires is not None and (not isinstance(expires, int) or isinstance(expires, bool)):
        return 422, DESERIALIZE + "expiresAfter: invalid type: expected u64"
    if not state.ip_limiter.take(ip, exchange_weight(_batch_len(action))):
        return 429, None

    is_mainnet = state.s.is_mainnet
    if typ in USER_SIGNED_ACTIONS:
        return _user_signed(state, action, nonce, sig, is_mainnet)
    if typ in UNSUPPORTED:
        return err(f"Action {typ} is not supported by the local venue.")
    try:
        signer = recover_l1_signer(action, vault, nonce, expires, is_mainnet, sig)
    except (ValueError, TypeError, OverflowError):
        return err("Invalid signature.")
    except Exception:  # msgpack cannot pack the action (floats, nesting): not the real shape
        return 422, DESERIALIZE + "action: invalid type"
    user, problem = state.accounts.acting_user(signer, vault)
    if problem:
        return err(problem)
    now = now_ms()
    if expires is not None and expires < now:
        # Not in the docs; the venue refuses stale actions (and charges 5x, modelled below).
        state.addr_limiter.used[user] = state.addr_limiter.used.get(user, 0) + 4
        return err(f"Action expired at {expires}, current time {now}.")
    problem = state.nonces.check_and_use(signer, nonce, now)
    if problem:
        return err(problem)
    problem = state.addr_limiter.check_and_count(
        user, _batch_len(action), is_cancel=typ in ("cancel", "cancelByCloid"))
    if problem:
        return err(problem)
    try:
        result = actions.run(state, user, action, now)
    except actions.ActionShapeError as exc:
        return 422, DESERIALIZE + f"action: {exc}"
    state.after_request()
    return 200, result


def _user_signed(state, action: dict, nonce: int, sig: dict, is_mainnet: bool):
    primary, fields = USER_SIGNED_TYPES[action["type"]]
    try:
        if action.get("nonce") != nonce:
            return err("Invalid nonce: the action's nonce must equal the request's nonce")
        signer = recover_user_signed_signer(action, sig, fields, primary, is_mainnet)
    except (ValueError, TypeError, KeyError, OverflowError):
        return 422, DESERIALIZE + "action: invalid user-signed action"
    if signer not in state.accounts.funded_usdc:
        return err(f"User or API Wallet {signer} does not exist.")
    problem = state.nonces.check_and_use(signer, nonce, now_ms())
    if problem:
        return err(problem)
    agent = normalize_address(action.get("agentAddress"))
    if agent is None:
        return 422, DESERIALIZE + "action: invalid agentAddress"
    state.approve_agent(agent, signer)
    return 200, {"status": "ok", "response": {"type": "default"}}
