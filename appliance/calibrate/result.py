"""What a calibration returns, and the slices of data it fits on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data import MarketSlice

NOT_FITTED = {
    "regime": "volatility regime thresholds: the regime's baseline has a "
              "3600 s half-life; a capture of minutes holds no regime change to place them on",
    "queue": "queue depletion (exec_scale_prior, cancel rate): needs our resting orders' "
             "queue outcomes (a live journal), not in market captures",
    "funding": "funding mean reversion: needs hours of funding observations; the "
               "captures hold none (Binance) or a few frames (Hyperliquid)",
    "toxicity": "the quote's toxicity weight on AS and the toxicity model itself",
}


@dataclass
class Segment:
    path: str
    coin: str
    part: str  # "train" | "test"
    sl: MarketSlice
    params: np.ndarray  # MarketParams every 100 ms, default estimator config


@dataclass
class Row:
    model: str
    metric: str
    default_in: float | None
    default_out: float | None
    calibrated_in: float | None
    calibrated_out: float | None


@dataclass
class CalibrationResult:
    overlay: dict[str, dict]
    text: str
    rows: list[Row]
    fits: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # fits refused, tests failed, bounds hit
    not_fitted: dict[str, str] = field(default_factory=lambda: dict(NOT_FITTED))
    segments: list[tuple[str, str, str, float, int]] = field(default_factory=list)
