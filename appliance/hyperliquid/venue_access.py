"""Venue access: which Hyperliquid URL the config names, which key signs and which
account is followed. Shared by the feed (websocket URL, account address), the
gateway and the risk watchdog's canceller (signing), and the supervisor (the demo
key for the local venue); it lives below the process packages so none of them
imports another's.

``network = "local"``: the supervisor starts the local venue on a loopback port and
exports its URL in ``MM_VENUE_URL`` to the children; the demo key (public,
test-only) is written owner-only into the state dir unless ``key_file`` is set.
``testnet`` / ``mainnet``: the public endpoints (or ``api_url``), key from
``key_file`` or the ``key_env`` environment variable. The websocket URL is always
derived from the REST one; a mainnet host is refused unless network = "mainnet".
"""

from __future__ import annotations

import os

from appliance.config import Config, state_dir
from appliance.config.limits import is_mainnet_url
from appliance.config.state_files import VENUE_URL_FILE

from .demo_key import DEMO_ADDRESS, write_demo_key_file
from .keys import SigningKey, load_key

MAINNET_API_URL = "https://api.hyperliquid.xyz"
TESTNET_API_URL = "https://api.hyperliquid-testnet.xyz"
VENUE_URL_ENV = "MM_VENUE_URL"  # set by the supervisor for network = local
DEMO_KEY_NAME = "demo-key.hex"


def api_url(cfg: Config, instance: str) -> str:
    """The REST URL (the websocket one is derived from it: ``ws_url``). Whatever path
    it came by (``api_url``, the network, ``$MM_VENUE_URL``, the state dir), a mainnet
    host is refused unless ``gateway.network = "mainnet"``."""
    url = _api_url(cfg, instance)
    if cfg.gateway.network != "mainnet" and is_mainnet_url(url):
        raise RuntimeError(f"{url} is Hyperliquid MAINNET but gateway.network = "
                           f"{cfg.gateway.network!r}: refused")
    return url


def _api_url(cfg: Config, instance: str) -> str:
    g = cfg.gateway
    if g.api_url:
        return g.api_url.rstrip("/")
    if g.network == "mainnet":
        return MAINNET_API_URL
    if g.network == "testnet":
        return TESTNET_API_URL
    url = os.environ.get(VENUE_URL_ENV, "")
    if not url:  # a child started by hand: the supervisor wrote the URL down
        f = state_dir(cfg, instance) / VENUE_URL_FILE
        url = f.read_text().strip() if f.exists() else ""
    if not url:
        raise RuntimeError("gateway.network = local but no local venue URL "
                           f"(${VENUE_URL_ENV} unset and no {VENUE_URL_FILE} in the state dir)")
    return url.rstrip("/")


def ws_url(rest_url: str) -> str:
    """The websocket URL of a REST one (``/ws`` on the same host, ws/wss)."""
    return rest_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/ws"


def is_mainnet_signing(cfg: Config) -> bool:
    """Phantom-agent source: "a" only on mainnet (the local venue checks "b")."""
    return cfg.gateway.network == "mainnet"


def key_path(cfg: Config, instance: str) -> str | None:
    """The key file to load, or None for the environment variable."""
    g = cfg.gateway
    if g.key_file:
        return g.key_file
    if g.network == "local":
        return str(state_dir(cfg, instance) / DEMO_KEY_NAME)
    return None


def ensure_demo_key(cfg: Config, instance: str) -> str | None:
    """network local without a key file: write the demo key (0600); returns its address."""
    if cfg.gateway.network != "local" or cfg.gateway.key_file:
        return None
    sd = state_dir(cfg, instance)
    sd.mkdir(parents=True, exist_ok=True)
    write_demo_key_file(sd / DEMO_KEY_NAME)
    return DEMO_ADDRESS


def load_signing_key(cfg: Config, instance: str) -> SigningKey:
    return load_key(key_path(cfg, instance), env_var=cfg.gateway.key_env)


def account_address(cfg: Config, instance: str) -> str:
    """The address whose orders, fills and positions we follow (never the agent's)."""
    g = cfg.gateway
    if g.vault_address:
        return g.vault_address.lower()
    if g.account_address:
        return g.account_address.lower()
    return load_signing_key(cfg, instance).address.lower()
