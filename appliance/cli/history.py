"""mmctl history: our fills, orders, fundings and P&L across restarts, from the recorder's
catalog."""

from __future__ import annotations

import click
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from appliance.catalog import FILLS, FUNDINGS, ORDERS, read_table
from appliance.catalog.reader import dedupe

from .catalog_cmd import catalog_dir, export_table, parse_time_ns, readable
from .common import config_option, instance_option

# the columns a terminal shows; --json and --out give them all
FILL_COLUMNS = ("ts", "coin", "side", "px", "sz", "fee_usd", "is_maker", "oid", "position_sz", "mid_px")
ORDER_COLUMNS = ("ts", "coin", "event", "side", "px", "level", "end_reason", "key")
FUNDING_COLUMNS = ("ts", "coin", "payment_usd", "position_sz", "funding_rate")
# a row recorded twice (a restarted recorder) is one: the columns that tell them apart
DEDUPE_KEYS = {FILLS: ["ts", "oid", "side", "px", "sz"], ORDERS: ["ts", "key", "event"],
               FUNDINGS: ["ts", "coin", "payment_usd", "position_sz"]}


def _select(f):
    f = click.argument("catalog", required=False, type=click.Path(file_okay=False))(f)
    f = click.option("--coin", "coins", multiple=True, metavar="COIN", help="Only this coin (repeatable).")(f)
    f = click.option("--since", default=None, metavar="WHEN",
                     help="From: 30m, 2h, 1d ago, or an ISO time (UTC).")(f)
    f = click.option("--until", default=None, metavar="WHEN", help="Until: as --since.")(f)
    f = click.option("--out", default=None, metavar="FILE", type=click.Path(dir_okay=False),
                     help="Write every column to FILE.csv or FILE.parquet instead of printing.")(f)
    f = click.option("--json", "as_json", is_flag=True, help="Print JSON lines, every column.")(f)
    f = config_option(f)
    return instance_option(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def history():
    """Our fills, orders, fundings and P&L across restarts, from the recorder's catalog.

    \b
    mmctl history fills --since 1d --coin BTC
    mmctl history orders --since 2026-12-03T15:00 --json
    mmctl history fundings --since 1d
    mmctl history pnl --since 7d
    mmctl history fills /path/to/catalog --out fills.csv

    The catalog is written while [recorder] enabled = true (the instance's [recorder]
    dir unless CATALOG is given). Times are UTC; prices USD; sizes coin; side +1 = we
    bought (fills) or a bid (orders).
    """


def _load(kind, catalog, config_path, instance, coins, since, until) -> pa.Table:
    path = catalog_dir(catalog, config_path, instance)
    t = read_table(path, kind, coins or None, parse_time_ns(since), parse_time_ns(until))
    return dedupe(t, DEDUPE_KEYS[kind]) if t.num_rows else t


def _show(t: pa.Table, columns, out, as_json) -> None:
    if out:
        export_table(t, out)
        click.echo(f"wrote {out}: {t.num_rows:,} rows")
        return
    if as_json:
        for row in readable(t).to_pylist():
            click.echo(orjson.dumps(row, default=str).decode())
        return
    shown = readable(t.select([c for c in columns if c in t.column_names]))
    click.echo("  ".join(f"{c:>12}" if c != "ts" else f"{c:<26}" for c in shown.column_names))
    for row in shown.to_pylist():
        click.echo("  ".join(f"{_cell(row[c]):>12}" if c != "ts" else f"{_cell(row[c]):<26}"
                             for c in shown.column_names))
    click.echo(f"{t.num_rows:,} rows")


def _cell(v) -> str:
    if hasattr(v, "isoformat"):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


@history.command()
@_select
def fills(catalog, coins, since, until, out, as_json, config_path, instance):
    """Our fills: time, coin, side, price, size, fee (negative: rebate), maker or not,
    order id, position after, mid at the fill."""
    _show(_load(FILLS, catalog, config_path, instance, coins, since, until), FILL_COLUMNS, out, as_json)


@history.command()
@_select
def orders(catalog, coins, since, until, out, as_json, config_path, instance):
    """Our orders: each placement's placed, first fill and end (with the reason)."""
    _show(_load(ORDERS, catalog, config_path, instance, coins, since, until), ORDER_COLUMNS, out, as_json)


@history.command()
@_select
def fundings(catalog, coins, since, until, out, as_json, config_path, instance):
    """Our funding payments: time (the funding hour), coin, payment (positive: we
    received), the position it was paid on, the hourly rate."""
    _show(_load(FUNDINGS, catalog, config_path, instance, coins, since, until), FUNDING_COLUMNS, out,
          as_json)


def _of(t: pa.Table, coin: str) -> pa.Table:
    return t.filter(pc.equal(t.column("coin").cast(pa.string()), coin))


def pnl_table(t: pa.Table, fu: pa.Table | None = None) -> pa.Table:
    """Per coin, over the fills in ``t`` and the fundings in ``fu``: fills, volume,
    fees, fundings received, the position at the first and after the last fill, and
    P&L = cash + position x mid + fundings, each end marked at the mid of its fill (so
    the P&L of the span, including the start position's)."""
    rows = []
    fu = fu if fu is not None and fu.num_rows else None
    coins = set(t.column("coin").to_pylist()) if t.num_rows else set()
    coins |= set(fu.column("coin").to_pylist()) if fu is not None else set()
    for coin in sorted(coins):
        funding = float(pc.sum(_of(fu, coin).column("payment_usd")).as_py() or 0.0) if fu is not None else 0.0
        n_fund = _of(fu, coin).num_rows if fu is not None else 0
        f = _of(t, coin) if t.num_rows else t
        if f.num_rows == 0:  # fundings only: a position held through the span
            rows.append({"coin": coin, "fills": 0, "volume_usd": 0.0, "fees_usd": 0.0, "maker_share": 0.0,
                         "position_start": None, "position_end": None, "fundings": n_fund,
                         "funding_usd": funding, "pnl_usd": funding})
            continue
        side = f.column("side").to_numpy().astype(float)
        px, sz = f.column("px").to_numpy(), f.column("sz").to_numpy()
        fee = f.column("fee_usd").to_numpy()
        pos_after = f.column("position_sz").to_numpy()
        mid = f.column("mid_px").to_numpy()
        pos0 = float(pos_after[0] - side[0] * sz[0])
        cash = float(-(side * px * sz).sum() - fee.sum())
        mark0 = float(mid[0]) if mid[0] > 0 else float(px[0])
        mark1 = float(mid[-1]) if mid[-1] > 0 else float(px[-1])
        maker = f.column("is_maker").to_numpy(zero_copy_only=False)
        rows.append({"coin": coin, "fills": f.num_rows, "volume_usd": float((px * sz).sum()),
                     "fees_usd": float(fee.sum()), "maker_share": float(maker.mean()),
                     "position_start": pos0, "position_end": float(pos_after[-1]), "fundings": n_fund,
                     "funding_usd": funding,
                     "pnl_usd": cash + float(pos_after[-1]) * mark1 - pos0 * mark0 + funding})
    return pa.Table.from_pylist(rows) if rows else pa.table({})


@history.command()
@_select
def pnl(catalog, coins, since, until, out, as_json, config_path, instance):
    """P&L per coin over the span: fills, volume, fees, maker share, positions,
    fundings, and P&L (cash flow of the fills plus the position change, marked at the
    mids, plus the funding payments)."""
    t = _load(FILLS, catalog, config_path, instance, coins, since, until)
    fu = _load(FUNDINGS, catalog, config_path, instance, coins, since, until)
    if t.num_rows == 0 and fu.num_rows == 0:
        raise click.ClickException("no fills nor fundings in that span")
    p = pnl_table(t, fu)
    _show(p, p.column_names, out, as_json)
