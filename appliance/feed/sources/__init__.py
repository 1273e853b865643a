"""Market sources: recorded captures and synthetic markets as MD_EVENT chunks."""

from .base import MarketSource
from .binance_replay import BinanceReplaySource
from .hyperliquid_replay import HyperliquidReplaySource
from .spec import open_source
from .synthetic_walk import SyntheticWalkSource

__all__ = [
    "BinanceReplaySource",
    "HyperliquidReplaySource",
    "MarketSource",
    "SyntheticWalkSource",
    "open_source",
]
