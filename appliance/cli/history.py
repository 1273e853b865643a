"""mmctl history: our fills, orders and P&L across restarts, from the recorder's catalog."""

from __future__ import annotations

import click
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from appliance.catalog import FILLS, ORDERS, read_table
from appliance.catalog.reader import dedupe

from .catalog_cmd import catalog_dir, export_table, parse_time_ns, readable
from .common import config_option, instance_option

# the columns a terminal shows; --json and --out give them all
FILL_COLUMNS = ("ts", "coin", "side", "px", "sz", "fee_usd", "is_maker", "oid", "position_sz", "mid_px")
ORDER_COLUMNS = ("ts", "coin", "event", "side", "px", "level", "end_reason", "key")


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
    """Our fills, orders and P&L across restarts, from the recorder's catalog.

    \b
    mmctl history fills --since 1d --coin BTC
    mmctl history orders --since 2026-12-03T15:00 --json
    mmctl history pnl --since 7d
    mmctl history fills /path/to/catalog --out fills.csv

    The catalog is written while [recorder] enabled = true (the instance's [recorder]
    dir unless CATALOG is given). Times are UTC; prices USD; sizes coin; side +1 = we
    bought (fills) or a bid (orders).
    """


def _load(kind, catalog, config_path, instance, coins, since, until) -> pa.Table:
    path = catalog_dir(catalog, config_path, instance)
    t = read_table(path, kind, coins or None, parse_time_ns(since), parse_time_ns(until))
    keys = ["ts", "oid", "side", "px", "sz"] if kind == FILLS else ["ts", "key", "event"]
    return dedupe(t, keys) if t.num_rows else t


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


def pnl_table(t: pa.Table) -> pa.Table:
    """Per coin, over the fills in ``t``: fills, volume, fees, the position at the
    first and after the last fill, and P&L = cash + position x mid, each end marked at
    the mid of its fill (so the P&L of the span, including the start position's)."""
    rows = []
    for coin in sorted(set(t.column("coin").to_pylist())):
        f = t.filter(pc.equal(t.column("coin").cast(pa.string()), coin))
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
                     "position_start": pos0, "position_end": float(pos_after[-1]),
                     "pnl_usd": cash + float(pos_after[-1]) * mark1 - pos0 * mark0})
    return pa.Table.from_pylist(rows) if rows else pa.table({})


@history.command()
@_select
def pnl(catalog, coins, since, until, out, as_json, config_path, instance):
    """P&L per coin over the span: fills, volume, fees, maker share, positions, and
    P&L (cash flow of the fills plus the position change, marked at the mids)."""
    t = _load(FILLS, catalog, config_path, instance, coins, since, until)
    if t.num_rows == 0:
        raise click.ClickException("no fills in that span")
    p = pnl_table(t)
    _show(p, p.column_names, out, as_json)
