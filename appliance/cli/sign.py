"""`mmctl sign`: print the exact /exchange body for each action on stdin.

For debugging "User or API Wallet 0x... does not exist" (the venue recovered another
signer from what you sent): sign the same action, nonce and vault here and compare.
"""

from __future__ import annotations

import json
import sys

import click

from appliance.hyperliquid.keys import DEFAULT_KEY_ENV, KeyLoadError, load_key
from appliance.hyperliquid.nonces import NonceManager
from appliance.hyperliquid.signing import (
    USER_SIGNED_CHAIN_ID_HEX,
    USER_SIGNED_TYPES,
    exchange_body,
    sign_l1_action,
    user_signed_digest,
)


class LineError(ValueError):
    pass


def _opt_int(obj: dict, name: str) -> int | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise LineError(f'"{name}" must be an unsigned 64-bit integer or null, got {value!r}')
    return value


def _opt_address(value, name: str) -> str | None:
    if value is None:
        return None
    if not (isinstance(value, str) and len(value) == 42 and value[:2] == "0x"):
        raise LineError(f'"{name}" must be a 0x-prefixed 20-byte hex address, got {value!r}')
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        raise LineError(f'"{name}" is not hex: {value!r}') from None
    return value


def sign_line(line: str, key, is_mainnet: bool, vault: str | None, nonces: NonceManager) -> tuple[dict, str]:
    """One input line -> (body, warning or ""). Raises LineError/ValueError on bad input."""
    try:
        obj = json.loads(line)  # dicts keep the key order of the text: it is hashed as is
    except json.JSONDecodeError as err:
        raise LineError(f"invalid JSON: {err}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("action"), dict):
        raise LineError('expected an object with an "action" object, e.g. '
                        '{"action": {...}, "nonce": N, "expiresAfter": null}')
    action = obj["action"]
    if not isinstance(action.get("type"), str):
        raise LineError('the action has no string "type"')
    nonce = _opt_int(obj, "nonce")
    if nonce is None:
        nonce = nonces.next()
    expires_after = _opt_int(obj, "expiresAfter")
    vault = _opt_address(obj.get("vaultAddress", vault), "vaultAddress")
    warning = ""
    user_signed = USER_SIGNED_TYPES.get(action["type"])
    if user_signed is None:
        sig = sign_l1_action(key, action, vault, nonce, expires_after, is_mainnet)
        return exchange_body(action, nonce, sig, vault, expires_after), warning
    if expires_after is not None:
        raise LineError(f'expiresAfter is not supported on user-signed action "{action["type"]}"')
    primary_type, fields = user_signed
    chain = "Mainnet" if is_mainnet else "Testnet"
    action.setdefault("signatureChainId", USER_SIGNED_CHAIN_ID_HEX)
    action.setdefault("hyperliquidChain", chain)
    if action["hyperliquidChain"] != chain:
        warning = f'hyperliquidChain is "{action["hyperliquidChain"]}" but --network says {chain}'
    missing = [f["name"] for f in fields if f["name"] not in action]
    if missing:
        raise LineError(f'user-signed "{action["type"]}" lacks field(s) {", ".join(missing)}')
    sig65 = key.sign_digest(user_signed_digest(action, fields, primary_type))
    sig = {"r": hex(int.from_bytes(sig65[:32], "big")), "s": hex(int.from_bytes(sig65[32:64], "big")),
           "v": 27 + sig65[64]}
    return exchange_body(action, nonce, sig, vault, None), warning


@click.command("sign")
@click.option("--key-file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help=f"Owner-only file (chmod 600) with the hex private key; else ${DEFAULT_KEY_ENV}.")
@click.option("--network", type=click.Choice(["mainnet", "testnet"]), default="mainnet", show_default=True,
              help="Phantom agent source 'a' (mainnet) or 'b' (testnet).")
@click.option("--vault", default=None, metavar="ADDR", help="Vault or subaccount address to trade for.")
def sign(key_file: str | None, network: str, vault: str | None) -> None:
    """Sign one action per stdin line and print the exact /exchange body per line.

    \b
    input : {"action": {...}, "nonce": N, "expiresAfter": null}   (nonce omitted: now)
            optional "vaultAddress" per line overrides --vault
    output: {"action":...,"nonce":N,"signature":{"r","s","v"},"vaultAddress":..,"expiresAfter":..}

    Actions are signed exactly as given (no rounding, key order kept). Bad lines are
    reported on stderr with their number; the exit code is 1 if any line failed."""
    try:
        key = load_key(key_file)
        vault = _opt_address(vault, "--vault")
    except (KeyLoadError, LineError) as err:
        raise click.ClickException(str(err)) from None
    is_mainnet = network == "mainnet"
    click.echo(f"signing as {key.address} on {network}" + (f" for vault {vault}" if vault else ""), err=True)
    nonces = NonceManager()
    failed = 0
    for lineno, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            body, warning = sign_line(line, key, is_mainnet, vault, nonces)
        except (ValueError, TypeError, OverflowError) as err:
            failed += 1
            click.echo(f"line {lineno}: {err}", err=True)
            continue
        if warning:
            click.echo(f"line {lineno}: warning: {warning}", err=True)
        sys.stdout.write(json.dumps(body, separators=(",", ":")) + "\n")
        sys.stdout.flush()
    if failed:
        click.echo(f"{failed} line(s) failed", err=True)
        sys.exit(1)
