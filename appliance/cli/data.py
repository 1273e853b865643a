"""mmctl data: store market events as Parquet (from captures or a synthetic scenario);
list, describe and export the recorder's catalog (``catalog_cmd.py``)."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import click
import orjson

from appliance.catalog import is_catalog, read_table
from appliance.feed.sources import open_source
from appliance.feed.sources.base import MarketSource
from appliance.feed.sources.binance_book import symbol_to_coin
from appliance.feed.sources.capture import detect_capture_format, iter_capture
from appliance.feed.sources.hl_archive import archive_coins
from appliance.feed.sources.hl_archive_io import detect_archive_format
from appliance.feed.sources.parquet_store import ParquetEventWriter, is_parquet, read_metadata
from appliance.feed.sources.synthetic import SCENARIOS
from shm_layout.constants import EV_ASSET_CTX, EV_BBO, EV_BOOK, EV_TRADE

from .catalog_cmd import (
    GAP_OPTION,
    KIND_CHOICE,
    catalog_dir,
    export_table,
    file_info,
    ls_rows,
    parse_time_ns,
    print_ls,
)
from .common import config_option, instance_option

_KIND_NAMES = {EV_BOOK: "book", EV_TRADE: "trade", EV_BBO: "bbo", EV_ASSET_CTX: "asset_ctx"}
# Capture lines scanned to find the coins when --coins is not given.
_INFER_LINES = 2000


def _parse_coins(text: str | None) -> list[str] | None:
    if text is None:
        return None
    coins = [c.strip() for c in text.split(",") if c.strip()]
    if not coins:
        raise click.BadParameter("give at least one coin, e.g. --coins BTC,ETH", param_hint="--coins")
    return coins


def infer_capture_coins(path: str) -> list[str]:
    """Coins named in the first frames of a Hyperliquid or Binance capture, in order seen."""
    seen: dict[str, None] = {}
    for _, body in itertools.islice(iter_capture(path), _INFER_LINES):
        try:
            frame = orjson.loads(body)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(frame, dict):
            continue
        data = frame.get("data")
        if "channel" in frame:  # Hyperliquid
            items = data if isinstance(data, list) else [data]
            for it in items:
                if isinstance(it, dict) and isinstance(it.get("coin"), str):
                    seen.setdefault(it["coin"], None)
        else:  # Binance: combined stream name or the payload's symbol
            stream = frame.get("stream")
            sym = stream.split("@", 1)[0] if isinstance(stream, str) else None
            if sym is None and isinstance(data, dict):
                sym = data.get("s")
            if isinstance(sym, str) and sym:
                seen.setdefault(symbol_to_coin(sym), None)
    return list(seen)


def _store(src: MarketSource, out: str, spec: str, chunk_events: int) -> dict[str, object]:
    if os.path.isdir(out):
        raise click.ClickException(f"output {out!r} is a directory; give a FILE.parquet")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise click.ClickException(f"output directory {parent!r} does not exist")
    t0 = time.perf_counter()
    w = ParquetEventWriter(out, src.coins, spec)
    kinds: dict[str, int] = {}
    try:
        for chunk in src.chunks(chunk_events):
            w.write(chunk)
            for k, name in _KIND_NAMES.items():
                kinds[name] = kinds.get(name, 0) + int((chunk["kind"] == k).sum())
    except BaseException:
        w.abort()
        raise
    stats = src.stats.to_dict()
    w.close(stats)
    wall_s = time.perf_counter() - t0
    first, last = w.first_recv_ts_ns, w.last_recv_ts_ns
    return {
        "out": out,
        "source": spec,
        "coins": list(src.coins),
        **stats,
        "events": w.events,
        "kinds": kinds,
        "seconds_covered": (last - first) / 1e9 if w.events else 0.0,
        "bytes": os.path.getsize(out),
        "wall_s": round(wall_s, 3),
    }


def _report(info: dict[str, object], as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps(info, option=orjson.OPT_INDENT_2).decode())
        return
    kinds = info.get("kinds", {})
    click.echo(f"wrote {info['out']} ({int(info['bytes']) / 1e6:.1f} MB) from {info['source']}")
    click.echo(f"  coins      {','.join(info['coins'])}")  # type: ignore[arg-type]
    click.echo(
        f"  events     {info['events']}  ("
        + ", ".join(f"{k} {v}" for k, v in kinds.items() if v)  # type: ignore[union-attr]
        + ")"
    )
    click.echo(f"  malformed  {info['malformed']}   gaps {info['gaps']}   skipped {info['skipped']}"
               f"   stale trades {info['stale_trades']}")
    click.echo(f"  span       {float(info['seconds_covered']):.1f} s   wall {info['wall_s']} s")


json_flag = click.option("--json", "as_json", is_flag=True, help="Print the stats as JSON.")
chunk_option = click.option(
    "--chunk-events", default=8192, show_default=True, type=click.IntRange(1),
    help="Events per chunk read from the source (does not change the output).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def data():
    """Store normalized market events as Parquet, from captures or scenarios; list,
    describe and export the recorder's catalog.

    \b
    mmctl data convert btc_ws_20250126.gz btc.parquet
    mmctl data convert btcusdt_20240808.gz btc.parquet --coins BTC
    mmctl data generate synthetic:trend_selloff sell.parquet --seed 7
    mmctl data info btc.parquet
    mmctl data ls                       # the recorder's catalog: kinds, coins, spans, gaps
    mmctl data info CATALOG/market/2026-12-03/BTC
    mmctl data export CATALOG fills.csv --kind fills --coin BTC --since 1d

    A stored file replays with --source replay:FILE.parquet, a catalog (or a
    directory of it) with --source replay:DIR.
    """


@data.command()
@click.argument("capture", type=click.Path(dir_okay=False))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--coins", metavar="A,B", default=None,
              help="Coins to keep, in index order (default: every coin in the first frames).")
@chunk_option
@json_flag
def convert(capture, out, coins, chunk_events, as_json):
    """Convert a raw capture (Hyperliquid ws, Binance, or a Hyperliquid archive file) to OUT.parquet.

    Malformed lines are dropped and counted; Binance depth gaps are detected and counted.
    """
    if not os.path.isfile(capture):
        raise click.ClickException(f"capture not found: {capture!r}")
    if is_parquet(capture):
        raise click.ClickException(f"{capture!r} is already Parquet; nothing to convert")
    try:
        archive = detect_archive_format(capture)
        fmt = archive or detect_capture_format(capture)
        coin_list = _parse_coins(coins) or (archive_coins(capture, archive) if archive
                                            else infer_capture_coins(capture))
        if not coin_list:
            raise click.ClickException(f"no coin found in the first frames of {capture!r}; give --coins")
        src = open_source(f"replay:{capture}", coin_list)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    info = _store(src, out, f"replay:{fmt}:{os.path.basename(capture)}", chunk_events)
    _report(info, as_json)


@data.command()
@click.argument("spec", metavar="synthetic:SCENARIO")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Random seed.")
@click.option("--duration", "duration_s", default=None, type=click.FloatRange(min=0, min_open=True),
              metavar="S", help="Simulated seconds (default: the scenario's own, 1800).")
@click.option("--coins", metavar="A,B", default="BTC", show_default=True, help="Coins, in index order.")
@chunk_option
@json_flag
def generate(spec, out, seed, duration_s, coins, chunk_events, as_json):
    """Generate a synthetic scenario into OUT.parquet.

    Scenarios: quiet, trend_selloff, liquidation_cascade, funding_spike, toxic_burst,
    toxic_burst_v2, toxic_burst_v3
    (see appliance/feed/sources/synthetic/scenarios.py for their scripts).
    """
    kind, _, name = spec.partition(":")
    if kind != "synthetic" or name not in SCENARIOS:
        raise click.ClickException(
            f"unknown scenario spec {spec!r}; known: "
            + ", ".join(f"synthetic:{n}" for n in SCENARIOS)
        )
    kw = {} if duration_s is None else {"duration_s": duration_s}
    try:
        src = open_source(spec, _parse_coins(coins), seed=seed, **kw)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    info = _store(src, out, f"{spec}?seed={seed}", chunk_events)
    _report(info, as_json)


@data.command()
@click.argument("path", type=click.Path())
def info(path):
    """Print what PATH holds: a file stored by convert/generate (its metadata), or a
    file or directory of the recorder's catalog (files, rows, span, columns)."""
    if not os.path.exists(path):
        raise click.ClickException(f"not found: {path!r}")
    if is_catalog(path):
        click.echo(orjson.dumps(file_info(Path(path)), option=orjson.OPT_INDENT_2).decode())
        return
    if os.path.isdir(path):
        raise click.ClickException(f"{path!r} is a directory without recorder catalog files")
    try:
        meta = read_metadata(path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(orjson.dumps(meta, option=orjson.OPT_INDENT_2).decode())


@data.command("ls")
@click.argument("catalog", required=False, type=click.Path(file_okay=False))
@config_option
@instance_option
@GAP_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ls(catalog, config_path, instance, gap_s, as_json):
    """List what the recorder's catalog holds: per kind (market, fills, orders) and coin,
    the files, rows, size, first and last time, ring events lost and the gaps.

    CATALOG defaults to the instance's [recorder] dir.
    """
    path = catalog_dir(catalog, config_path, instance)
    rows = ls_rows(path, gap_s)
    if as_json:
        click.echo(orjson.dumps({"catalog": str(path), "spans": rows}, option=orjson.OPT_INDENT_2).decode())
    else:
        print_ls(path, rows)


@data.command()
@click.argument("catalog", type=click.Path(exists=True))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--kind", type=KIND_CHOICE, default="market", show_default=True,
              help="market (books, trades, contexts), fills (ours) or orders (ours).")
@click.option("--coin", "coins", multiple=True, metavar="COIN", help="Only this coin (repeatable).")
@click.option("--since", default=None, metavar="WHEN", help="From: 30m, 2h, 1d ago, or an ISO time (UTC).")
@click.option("--until", default=None, metavar="WHEN", help="Until: as --since.")
def export(catalog, out, kind, coins, since, until):
    """Export rows of the catalog to OUT.csv (lists as a;b;c) or OUT.parquet, named
    columns, sorted by time: ts, recv_ts (market) in UTC, prices in USD, sizes in coin."""
    t = read_table(catalog, kind, coins or None, parse_time_ns(since), parse_time_ns(until))
    if t.num_rows == 0:
        raise click.ClickException(f"no {kind} rows in {catalog} for that selection")
    fmt = export_table(t, out)
    click.echo(f"wrote {out}: {t.num_rows:,} {kind} rows as {fmt}, columns {', '.join(t.column_names)}")
