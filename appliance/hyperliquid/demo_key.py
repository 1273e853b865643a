"""The local venue's DEMO key. TEST-ONLY: it is public (it is in this file), so it
must never hold funds on any real chain. The default config funds its address on
the local venue, and the appliance's default config signs with it there.

Derived as keccak256(b"hl-mm-appliance local venue demo key; test-only, never fund on
a real chain"); the address is what that key recovers to.
"""

from __future__ import annotations

import os

DEMO_PRIVATE_KEY_HEX = "0x9d5840e43d37280787e8cec779acd47949881bde9786936c4d2bc352923ce558"
DEMO_ADDRESS = "0x1d181b94d106d9384b0542fa1f1c370a7803ee6c"
DEMO_FUND_USDC = 1_000_000.0


def write_demo_key_file(path: str | os.PathLike) -> str:
    """Write the demo key to an owner-only file (what ``load_key(path)`` accepts)."""
    fd = os.open(os.fspath(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(DEMO_PRIVATE_KEY_HEX + "\n")
    os.chmod(path, 0o600)
    return os.fspath(path)
