"""Market sources: recorded captures and synthetic markets as MD_EVENT chunks."""

from .base import MarketSource, SourceStats, open_source
from .binance_replay import BinanceReplaySource
from .hyperliquid_replay import HyperliquidReplaySource
from .synthetic_walk import SyntheticWalkSource

__all__ = [
    "BinanceReplaySource",
    "HyperliquidReplaySource",
    "MarketSource",
    "SourceStats",
    "SyntheticWalkSource",
    "open_source",
]
