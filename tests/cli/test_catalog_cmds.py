"""mmctl data ls|info|export and mmctl history over a catalog of real recorded events
(the Hyperliquid BTC capture's books and trades) and fills, through the real CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from sources_helpers import COINS, HL_BTC, _all, _need

from appliance.catalog import FILLS, FUNDINGS, MARKET, ORDERS, CatalogWriter
from appliance.cli.catalog_cmd import parse_time_ns
from appliance.feed.sources import open_source
from shm_layout import records
from shm_layout.constants import END_FILLED, OE_ENDED, OE_PLACED, UE_FUNDING

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_737_918_850_000_000_000  # 2025-01-26T19:14:10Z, inside the capture's span


def mmctl(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "appliance.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _fills() -> np.ndarray:
    f = np.zeros(4, records.FILL_EVENT)
    f["coin"] = 0
    f["side"] = [1, 1, -1, -1]
    f["is_maker"] = 1
    f["ts_ns"] = T0 + np.arange(4) * 60_000_000_000  # a minute apart
    f["oid"] = [11, 12, 13, 14]
    f["px"] = [100.0, 100.0, 101.0, 101.0]
    f["sz"] = 1.0
    f["fee_usd"] = -0.01
    f["mid_px"] = [100.5, 100.5, 100.5, 100.5]
    f["position_sz"] = [1.0, 2.0, 1.0, 0.0]
    return f


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cat") / "catalog"
    w = CatalogWriter(root, COINS)
    w.add(MARKET, _all(open_source(f"replay:{_need(HL_BTC)}", COINS)))
    w.flush()
    w.add(FILLS, _fills()[:2])
    w.flush()
    w.add(FILLS, _fills())  # a restarted recorder: the first two again, then two more
    o = np.zeros(2, records.ORDER_EVENT)
    o["kind"], o["end_reason"] = [OE_PLACED, OE_ENDED], [0, END_FILLED]
    o["key"], o["side"], o["px"] = 5, 1, 100.0
    w.add(ORDERS, o)
    w.flush()
    return root


def test_data_ls_when_catalog_then_kinds_coins_rows_and_spans(catalog):
    p = mmctl("data", "ls", catalog, "--json")
    assert p.returncode == 0, p.stderr
    spans = {(s["kind"], s["coin"]): s for s in json.loads(p.stdout)["spans"]}
    assert spans[("market", "BTC")]["rows"] == 80 and spans[("fills", "BTC")]["rows"] == 6
    assert spans[("market", "BTC")]["first"].startswith("2025-01-26T19:1")
    text = mmctl("data", "ls", catalog)
    assert text.returncode == 0 and "market  BTC" in text.stdout and "orders" in text.stdout


def test_data_ls_when_default_dir_from_config_then_found(catalog, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[recorder]\ndir = "{catalog}"\n')
    p = mmctl("data", "ls", "--config", cfg)
    assert p.returncode == 0 and "fills" in p.stdout
    missing = mmctl("data", "ls", tmp_path / "nothing")
    assert missing.returncode != 0 and "no catalog at" in missing.stderr


def test_data_info_when_partition_then_files_rows_and_columns(catalog):
    p = mmctl("data", "info", catalog / "market")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["rows"] == 80 and info["coins"] == ["BTC"]
    cols = info["columns"]
    assert cols["ts"] == "timestamp[ns, tz=UTC]" and cols["bid_px"] == "list<element: double>"
    assert cols["coin"] == "dictionary<values=string, indices=int8, ordered=0>"


def test_data_export_when_csv_and_parquet_then_readable_columns(catalog, tmp_path):
    out = tmp_path / "m.csv"
    p = mmctl("data", "export", catalog, out, "--kind", "market", "--coin", "BTC")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 80 and rows[0]["coin"] == "BTC" and rows[0]["event"] == "book"
    assert rows[0]["bid_px"].startswith("105055.0;")
    pq_out = tmp_path / "f.parquet"
    assert mmctl("data", "export", catalog, pq_out, "--kind", "fills").returncode == 0
    assert pq.read_table(pq_out).num_rows == 6  # export is raw: the repeat is kept
    bad = mmctl("data", "export", catalog, tmp_path / "x.txt")
    assert bad.returncode != 0 and ".csv or .parquet" in bad.stderr


def test_history_fills_when_recorded_twice_then_once_and_filtered_by_time(catalog):
    p = mmctl("history", "fills", catalog, "--json")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(ln) for ln in p.stdout.splitlines()]
    assert [r["oid"] for r in rows] == [11, 12, 13, 14]
    since = "2025-01-26T19:15:30"  # after the second fill
    out = mmctl("history", "fills", catalog, "--json", "--since", since).stdout
    later = [json.loads(ln) for ln in out.splitlines()]
    assert [r["oid"] for r in later] == [13, 14]
    table = mmctl("history", "fills", catalog, "--coin", "ETH")
    assert table.returncode == 0 and "0 rows" in table.stdout


def test_history_orders_and_pnl_when_round_trip_then_figures(catalog):
    o = mmctl("history", "orders", catalog, "--json")
    assert [json.loads(ln)["event"] for ln in o.stdout.splitlines()] == ["placed", "ended"]
    p = mmctl("history", "pnl", catalog, "--json")
    assert p.returncode == 0, p.stderr
    (row,) = [json.loads(ln) for ln in p.stdout.splitlines()]
    # bought 2 at 100, sold 2 at 101, 4 rebates of 0.01: flat, +2.04 USD
    assert row["fills"] == 4 and row["position_start"] == 0.0 and row["position_end"] == 0.0
    assert abs(row["pnl_usd"] - 2.04) < 1e-9 and row["volume_usd"] == 402.0


def test_parse_time_when_relative_iso_or_ns_then_epoch_ns():
    now = 2_000_000_000_000_000_000
    assert parse_time_ns("30m", now) == now - 1_800_000_000_000
    assert parse_time_ns("2025-01-26T19:14:10Z") == T0
    assert parse_time_ns("2025-01-26T19:14:10") == T0
    assert parse_time_ns(str(T0)) == T0


def _fundings(rows: list[tuple[int, float, float, float]], snap: int = 0) -> np.ndarray:
    """UE_FUNDING user events (coin 0): (time ms, payment USD, position, rate)."""
    u = np.zeros(len(rows), records.USER_EVENT)
    u["kind"], u["coin"], u["is_snapshot"] = UE_FUNDING, 0, snap
    for i, (t, usdc, szi, rate) in enumerate(rows):
        u["time_ms"][i], u["usdc"][i], u["szi"][i], u["funding_rate"][i] = t, usdc, szi, rate
        u["recv_ts_ns"][i] = t * 1_000_000 + 1_500_000_000
    return u


def test_history_pnl_when_fundings_recorded_then_listed_once_and_in_pnl(tmp_path):
    # Arrange: the round trip of the fills above and two funding payments (paid -0.05,
    # then received +0.02), the first recorded twice
    root = tmp_path / "catalog"
    w = CatalogWriter(root, COINS)
    w.add(FILLS, _fills())
    hours = [(T0 // 1_000_000 + 30_000, -0.05, 1.0, 5e-7), (T0 // 1_000_000 + 600_000, 0.02, 2.0, -1e-7)]
    w.add(FUNDINGS, _fundings(hours))
    w.flush()
    w.add(FUNDINGS, _fundings(hours[:1], snap=1))  # a restarted recorder: the snapshot again
    w.flush()
    # Act
    listed = mmctl("history", "fundings", root, "--json")
    p = mmctl("history", "pnl", root, "--json")
    ls = mmctl("data", "ls", root, "--json")
    # Assert
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(ln) for ln in listed.stdout.splitlines()]
    assert [(r["payment_usd"], r["position_sz"], r["kind"]) for r in rows] == [(-0.05, 1.0, "funding"),
                                                                              (0.02, 2.0, "funding")]
    assert p.returncode == 0, p.stderr
    (row,) = [json.loads(ln) for ln in p.stdout.splitlines()]
    assert row["fundings"] == 2 and abs(row["funding_usd"] - (-0.03)) < 1e-12
    assert abs(row["pnl_usd"] - (2.04 - 0.03)) < 1e-9  # the fills' +2.04 and the fundings
    spans = {(s["kind"], s["coin"]): s for s in json.loads(ls.stdout)["spans"]}
    assert spans[("fundings", "BTC")]["rows"] == 3  # the catalog is raw; history drops the repeat
    only = mmctl("history", "pnl", root, "--json", "--since", "2025-01-26T19:20:00")
    (late,) = [json.loads(ln) for ln in only.stdout.splitlines()]  # no fills then, a funding
    assert late["fills"] == 0 and late["fundings"] == 1 and late["pnl_usd"] == 0.02
