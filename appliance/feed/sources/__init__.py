"""Market sources: recorded captures and synthetic markets as MD_EVENT chunks."""

from .base import MarketSource, ReplayOptions
from .binance_replay import BinanceReplaySource
from .hyperliquid_replay import HyperliquidReplaySource
from .spec import open_source, replay_coins
from .synthetic_walk import SyntheticWalkSource

__all__ = [
    "BinanceReplaySource",
    "HyperliquidReplaySource",
    "MarketSource",
    "ReplayOptions",
    "SyntheticWalkSource",
    "open_source",
    "replay_coins",
]
