"""Hyperliquid client pieces shared by the processes, below all of them (it imports
no process package):

* protocol pieces that must match the official SDK byte for byte: wire formatting
  and tick/lot rules (`wire`), L1 and user-signed EIP-712 signing (`signing`), key
  loading (`keys`) and per-signer nonces (`nonces`);
* venue access (`venue_access`): the URL, key and account the config names, for
  the feed, the gateway, the risk canceller and the supervisor; the local venue's
  public test key (`demo_key`);
* transports (`http_transport`, `ws_post_transport`, chosen by `transports`) over
  bounded, heartbeat-stamping network I/O (`bounded_net`), for the gateway and the
  risk canceller.

The appliance never imports the SDK; tests compare against it."""

from .keys import KeyLoadError, SigningKey, load_key
from .nonces import NonceManager
from .signing import (
    action_hash,
    exchange_body,
    recover_l1_signer,
    recover_user_signed_signer,
    sign_l1_action,
    sign_user_signed_action,
)
from .wire import (
    float_to_wire,
    meets_min_notional,
    order_wire,
    px_valid,
    round_px,
    round_sz,
)

__all__ = [
    "KeyLoadError",
    "NonceManager",
    "SigningKey",
    "action_hash",
    "exchange_body",
    "float_to_wire",
    "load_key",
    "meets_min_notional",
    "order_wire",
    "px_valid",
    "recover_l1_signer",
    "recover_user_signed_signer",
    "round_px",
    "round_sz",
    "sign_l1_action",
    "sign_user_signed_action",
]
