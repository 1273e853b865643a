"""What ``VenueEngine`` takes and returns: plain dataclasses, no arrays, no JSON.

Coin specs and fees in; order results, open orders, fills, fundings, liquidations,
positions and account views out. Moved whole out of ``engine.py`` (no behaviour
changed): the engine is the API over the kernels, this is its vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CoinSpec:
    name: str
    sz_decimals: int
    max_leverage: float = 50.0
    tick_px: float | None = None  # informational; the tick rule is Hyperliquid's


@dataclass(frozen=True)
class FeeSchedule:
    maker_bps: float = 1.5  # negative = rebate
    taker_bps: float = 4.5


@dataclass(frozen=True)
class OrderResult:
    kind: str  # "resting" | "filled" | "error"
    oid: int | None = None
    cloid: str | None = None
    total_sz: float = 0.0
    avg_px: float = 0.0
    error: str | None = None


@dataclass
class OpenOrder:
    coin: str
    side: str  # "B" | "A"
    limit_px: float
    sz: float  # remaining
    oid: int
    timestamp_ms: int
    orig_sz: float
    cloid: str | None
    tif: str
    reduce_only: bool
    status: str = "open"
    status_ms: int = 0


@dataclass(frozen=True)
class Fill:
    coin: str
    px: float
    sz: float
    side: str  # "B" | "A"
    time_ms: int
    start_position: float
    dir: str
    closed_pnl: float
    hash: str
    oid: int
    crossed: bool
    fee: float
    tid: int
    cloid: str | None
    liquidation: bool = False


@dataclass(frozen=True)
class Funding:
    time_ms: int
    coin: str
    usdc: float  # received (negative = paid)
    szi: float
    funding_rate: float
    n_samples: int = 1


@dataclass(frozen=True)
class Liquidation:
    time_ms: int
    coin: str
    liquidated_ntl_pos: float
    liquidated_account_value: float
    mark_px: float


@dataclass(frozen=True)
class PositionView:
    coin: str
    szi: float
    entry_px: float
    leverage: float
    is_cross: bool
    liquidation_px: float | None
    margin_used: float
    position_value: float
    unrealized_pnl: float
    return_on_equity: float
    max_leverage: float
    cum_funding_all: float  # received (negative = paid), as the kernel keeps it
    cum_funding_since_open: float
    cum_funding_since_change: float


@dataclass(frozen=True)
class AccountView:
    account_value: float
    total_ntl_pos: float
    total_raw_usd: float
    total_margin_used: float
    cross_maintenance_margin_used: float
    withdrawable: float
    positions: list[PositionView] = field(default_factory=list)
