"""Who may act: funded accounts, approved agents, vaults, and per-signer nonces.

Nonce rules (docs): nonces are tracked per signer (the agent when an API wallet
signs). The venue keeps the 100 highest; a new nonce must be above the smallest of
them once 100 are held, never seen before, and within (T - 2 days, T + 1 day).
"""

from __future__ import annotations

import bisect
import threading

NONCE_SET_SIZE = 100
NONCE_PAST_MS = 2 * 86_400_000
NONCE_FUTURE_MS = 86_400_000

_HEX = set("0123456789abcdef")


def normalize_address(addr: object) -> str | None:
    """Lower-case ``0x`` + 40 hex, or None if it is not an address."""
    if not isinstance(addr, str):
        return None
    a = addr.strip().lower()
    if len(a) != 42 or not a.startswith("0x") or not set(a[2:]) <= _HEX:
        return None
    return a


class Accounts:
    """Funded users, their agents (API wallets) and their vaults/sub-accounts."""

    def __init__(self) -> None:
        self.funded_usdc: dict[str, float] = {}
        self.agent_owner: dict[str, str] = {}  # agent -> master
        self.vault_owner: dict[str, str] = {}  # vault/sub-account -> master

    def fund(self, address: str, usdc: float) -> str:
        a = normalize_address(address)
        if a is None:
            raise ValueError(f"not an address: {address!r}")
        self.funded_usdc[a] = self.funded_usdc.get(a, 0.0) + float(usdc)
        return a

    def approve_agent(self, agent: str, master: str) -> None:
        ag, m = normalize_address(agent), normalize_address(master)
        if ag is None or m is None:
            raise ValueError(f"not an address pair: {agent!r}, {master!r}")
        # A new agent replaces nothing here (names are not modelled); never reuse agents.
        self.agent_owner[ag] = m

    def register_vault(self, vault: str, master: str) -> None:
        v, m = normalize_address(vault), normalize_address(master)
        if v is None or m is None:
            raise ValueError(f"not an address pair: {vault!r}, {master!r}")
        self.vault_owner[v] = m

    def user_of_signer(self, signer: str) -> str | None:
        """The account a signer acts for, or None if it is neither user nor agent."""
        if signer in self.funded_usdc:
            return signer
        return self.agent_owner.get(signer)

    def acting_user(self, signer: str, vault: str | None) -> tuple[str | None, str | None]:
        """(account the action applies to, error text)."""
        user = self.user_of_signer(signer)
        if user is None:
            return None, f"User or API Wallet {signer} does not exist."
        if vault is None:
            return user, None
        if vault not in self.funded_usdc or (vault != user and self.vault_owner.get(vault) != user):
            return None, f"Vault not registered: {vault}"
        return vault, None


class NonceBook:
    """The 100 highest nonces of each signer."""

    def __init__(self, size: int = NONCE_SET_SIZE) -> None:
        self.size = size
        self._sets: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def check_and_use(self, signer: str, nonce: int, now_ms: int) -> str | None:
        """None if accepted (and recorded), else the real error text."""
        if not now_ms - NONCE_PAST_MS < nonce < now_ms + NONCE_FUTURE_MS:
            return f"Invalid nonce: nonce {nonce} is outside the allowed time window"
        with self._lock:
            held = self._sets.setdefault(signer, [])
            i = bisect.bisect_left(held, nonce)
            if i < len(held) and held[i] == nonce:
                return f"Invalid nonce: duplicate nonce {nonce}"
            if len(held) >= self.size and nonce <= held[0]:
                return f"Invalid nonce: nonce too low {nonce} < {held[0]}"
            held.insert(i, nonce)
            if len(held) > self.size:
                del held[0]
        return None
