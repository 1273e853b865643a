"""The venue server's settings, built from ``[venue]`` of the config and CLI flags."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class VenueSettings:
    host: str = "127.0.0.1"
    port: int = 8787  # 0 = any free port
    source: str = "synthetic"
    speed: float = 1.0
    seed: int = 7
    coins: tuple[str, ...] = ("BTC",)
    funded: tuple[str, ...] = ()  # "ADDRESS:USDC"
    agents: tuple[str, ...] = ()  # "AGENT:MASTER"
    is_mainnet: bool = False  # which phantom-agent source ("a"/"b") signatures use
    ws_idle_timeout_s: float = 60.0
    ip_weight_per_min: int = 1200
    address_base_cap: int = 10_000
    schedule_cancel_min_volume_usd: float = 1_000_000.0
    maker_fee_bps: float = 1.5
    taker_fee_bps: float = 4.5
    queue_model: str = "prob_power"
    queue_power: float = 2.0
    order_latency_ms: float = 0.0
    order_latency_jitter_ms: float = 0.0
    order_latency_sigma: float = 1.0
    # market data: engine -> ws clients (constant + lognormal draw of this median when > 0)
    md_latency_ms: float = 0.0
    md_latency_jitter_ms: float = 0.0
    md_latency_sigma: float = 1.0
    l2book_min_interval_ms: float = 500.0  # the real venue pushes a book at most every 0.5 s
    admin_endpoint: bool = True  # POST /_faults, loopback clients only
    synthetic_kw: dict = field(default_factory=dict)


def parse_fund(spec: str) -> tuple[str, float]:
    """``ADDRESS:USDC`` -> (address, usdc)."""
    addr, sep, amount = spec.rpartition(":")
    if not sep or not addr:
        raise ValueError(f"expected ADDRESS:USDC, got {spec!r}")
    try:
        usdc = float(amount)
    except ValueError as exc:
        raise ValueError(f"bad USDC amount in {spec!r}") from exc
    if not usdc > 0:
        raise ValueError(f"USDC amount must be > 0 in {spec!r}")
    return addr, usdc


def settings_from_config(cfg, **overrides) -> VenueSettings:
    """From a loaded ``Config`` (its ``[venue]`` section, and the appliance coins)."""
    v = getattr(cfg, "venue", None)
    s = VenueSettings()
    if v is not None:
        for name in ("host", "port", "speed", "seed", "funded", "agents", "is_mainnet",
                     "ws_idle_timeout_s", "ip_weight_per_min", "address_base_cap",
                     "schedule_cancel_min_volume_usd", "maker_fee_bps", "taker_fee_bps",
                     "queue_model", "queue_power", "order_latency_ms", "order_latency_jitter_ms",
                     "order_latency_sigma", "md_latency_ms", "md_latency_jitter_ms",
                     "md_latency_sigma", "l2book_min_interval_ms", "admin_endpoint"):
            if hasattr(v, name):
                setattr(s, name, getattr(v, name))
        s.source = v.source or cfg.feed.source
    else:
        s.source = cfg.feed.source
    s.coins = tuple(cfg.appliance.coins)
    if s.source.startswith("synthetic"):
        f = cfg.feed
        s.synthetic_kw = {"sigma_bps_per_sqrt_s": f.synthetic_sigma_bps_per_sqrt_s,
                          "start_px": f.synthetic_start_px, "tick_px": f.synthetic_tick_px,
                          "events_per_s": f.synthetic_events_per_s}
    for k, val in overrides.items():
        if val is not None:
            setattr(s, k, val)
    return s
