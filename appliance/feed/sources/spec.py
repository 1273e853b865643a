"""A market source from a spec string: ``replay:PATH``, ``synthetic[:SCENARIO]``.

The one place that knows every concrete source; the sources themselves know only
``base`` and ``appliance.feed.events``, so nothing here is imported to dodge a cycle.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from appliance.catalog import is_catalog
from appliance.catalog.reader import coins_of

from .base import MarketSource, ReplayOptions
from .binance_book import symbol_to_coin
from .binance_frames import head_symbols
from .binance_replay import BinanceReplaySource
from .capture import detect_capture_format
from .catalog_replay import CatalogReplaySource
from .hl_archive import HlArchiveSource, archive_coins
from .hl_archive_io import detect_archive_format
from .hyperliquid_replay import HyperliquidReplaySource, head_coins
from .merged import MergedReplaySource, split_paths
from .parquet_store import ParquetReplaySource, is_parquet, read_metadata
from .synthetic import ScenarioSource
from .synthetic_walk import SyntheticWalkSource


def open_source(
    spec: str, coins: Sequence[str], seed: int = 0, replay: ReplayOptions | None = None,
    **synthetic_kw: object,
) -> MarketSource:
    """Build a source from a spec string.

    * ``replay:PATH`` – a recorded capture, gzip or plain; the venue (Hyperliquid, or
      Binance USD-M, coin-margined or spot) is detected from its frames; ``replay``
      says how to read it (book warm-up, instrument overrides).
    * ``synthetic`` or ``synthetic:walk`` – the seeded random-walk market;
      ``seed`` and ``synthetic_kw`` (see ``SyntheticWalkSource``) configure it.
    * ``synthetic:SCENARIO`` – a finite scenario market (``quiet``, ``trend_selloff``,
      ``liquidation_cascade``, ``funding_spike``, ``toxic_burst``, ``toxic_burst_v2``,
      ``toxic_burst_v3``); ``synthetic_kw``
      as ``ScenarioSource`` takes them (``duration_s``, ...).
    * ``replay:FILE.parquet`` – normalized events stored by ``mmctl data`` (detected
      by the extension or the Parquet magic).
    * ``replay:DIR`` – the recorder's catalog (``appliance.catalog``), its root or any
      directory or file under it: the market events the feed published.
    * ``replay:FILE`` of Hyperliquid's archives (LZ4, gzip or plain): an hourly
      ``l2Book`` file, an ``asset_ctxs`` CSV, ``node_trades``, ``node_fills`` or
      ``node_fills_by_block`` (``hl_archive.py``; told from the first lines).
    * ``replay:FILE1,FILE2,...`` – several files of one market (an hour's archive
      ``l2Book`` and its ``node_trades``, say) merged into one stream by receive time
      (``merged.py``).

    ``seed`` and ``synthetic_kw`` are ignored by replays, ``replay`` by the others. Raises ``ValueError`` for
    an unknown spec, a missing or unreadable file, or an unknown format.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"empty market source spec {spec!r}")
    spec = spec.strip()
    kind, _, arg = spec.partition(":")
    if kind == "synthetic":
        try:
            if arg in ("", "walk"):
                return SyntheticWalkSource(coins, seed=seed, **synthetic_kw)  # type: ignore[arg-type]
            return ScenarioSource(coins, arg, seed=seed, **synthetic_kw)  # type: ignore[arg-type]
        except TypeError as exc:
            raise ValueError(f"bad option for {spec!r}: {exc}") from exc
    if kind == "replay":
        paths = split_paths(arg.strip())
        if len(paths) > 1:
            return MergedReplaySource([open_source(f"replay:{p}", coins, seed, replay) for p in paths],
                                      [os.path.expanduser(p) for p in paths])
        path = _replay_path(spec)
        if is_catalog(path):
            return CatalogReplaySource(path, coins)
        if is_parquet(path):
            return ParquetReplaySource(path, coins)
        archive = detect_archive_format(path)
        if archive is not None:
            return HlArchiveSource(path, coins, archive, replay)
        fmt = detect_capture_format(path)
        if fmt == "hyperliquid":
            return HyperliquidReplaySource(path, coins, replay)
        return BinanceReplaySource(path, coins, replay)
    raise ValueError(
        f"unknown market source spec {spec!r}; expected 'replay:PATH', 'synthetic', "
        "'synthetic:walk' or 'synthetic:SCENARIO'"
    )


def _replay_path(spec: str) -> str:
    arg = spec.strip().partition(":")[2]
    if not arg:
        raise ValueError(f"missing path in {spec!r}; expected 'replay:PATH'")
    path = os.path.expanduser(arg)
    if os.path.isdir(path):
        if not is_catalog(path):
            raise ValueError(f"replay directory {path!r} is not a recorder catalog (no market/, "
                             f"fills/ or orders/ of catalog files under it)")
        return path
    if not os.path.isfile(path):
        raise ValueError(f"replay capture not found: {path!r} (from {spec!r})")
    return path


def replay_coins(spec: str) -> list[str]:
    """The coins a ``replay:PATH`` holds, as the appliance names them (``BTCUSDT`` ->
    ``BTC``): a stored file's own list, else those its first frames name. Raises
    ValueError for a missing or unreadable file, or one of unknown format. Several
    files: the coins of each, in order."""
    paths = split_paths(spec.strip().partition(":")[2].strip())
    if len(paths) > 1:
        out: list[str] = []
        for p in paths:
            out += [c for c in replay_coins(f"replay:{p}") if c not in out]
        return out
    path = _replay_path(spec)
    if is_catalog(path):
        return coins_of(path)
    if is_parquet(path):
        return list(read_metadata(path)["mm.coins"])  # type: ignore[call-overload]
    archive = detect_archive_format(path)
    if archive is not None:
        return archive_coins(path, archive)
    if detect_capture_format(path) == "hyperliquid":
        return head_coins(path)
    syms: list[str] = []
    for sym in head_symbols(path):
        coin = symbol_to_coin(sym)
        if coin not in syms:
            syms.append(coin)
    return syms
