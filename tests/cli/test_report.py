"""mmctl report over a segment set the watchdog's attribution wrote (no processes)."""

import json
import time

from click.testing import CliRunner
from risk_helpers import NOON, fresh_segments, make_view, publish_fill, set_params, set_position

from appliance.cli.main import cli
from appliance.risk.attribution import LiveAttribution

H = 10_000_000_000


def test_report_when_session_then_components_json_text_and_plot(tmp_path):
    with fresh_segments("rep") as mem:
        inst = mem.control.instance
        ctl = mem.control.records[0]
        ctl["instance"], ctl["n_coins"] = inst.encode(), 2
        ctl["coins"][0], ctl["coins"][1] = b"BTC", b"ETH"
        cfg = tmp_path / "mm.toml"
        cfg.write_text(f'[appliance]\nstate_dir = "{tmp_path}/state-{{instance}}"\ncoins = ["BTC", "ETH"]\n')
        view = make_view(mem, tmp_path)
        att = LiveAttribution(view.cfg, mem, tmp_path / f"state-{inst}" / "attribution-journal.jsonl",
                              every_s=0.0)
        t0 = time.monotonic_ns()
        set_position(mem, 0, update_mono_ns=t0, mark_px=100.0)
        view.refresh(NOON)
        att.step(view, t0)
        publish_fill(mem, coin=0, side=-1, sz=2.0, px=101.0, mid_px=100.0, fee_usd=-0.02, is_maker=1,
                     pub_mono_ns=t0 + 1)
        set_params(mem, 0, mid_px=99.0)
        set_position(mem, 0, update_mono_ns=t0 + 2, position_sz=-2.0, mark_px=99.0, total_pnl_usd=4.02,
                     fees_usd=-0.02)
        view.refresh(NOON)
        att.step(view, t0 + H + 3)
        att.close()

        r = CliRunner().invoke(cli, ["report", "--instance", inst, "--json"])
        assert r.exit_code == 0, r.output
        d = json.loads(r.output)
        btc = d["coins"]["BTC"]
        assert list(d["coins"]) == ["BTC"]  # ETH: its position was never published
        assert btc["fills"] == 1 and btc["sums"] and btc["pnl_usd"] == 4.02
        assert btc["spread_usd"] == 2.0 and btc["adverse_selection_usd"] == 2.0
        assert btc["fees_usd"] == 0.02 and btc["volume_usd"] == 202.0  # a rebate
        assert d["total"]["pnl_usd"] == 4.02 and d["total"]["sums"]

        r = CliRunner().invoke(cli, ["report", "--instance", inst])
        assert "sum holds" in r.output and "pnl $4.0200 = spread $2.0000" in r.output

        png = tmp_path / "s.png"
        r = CliRunner().invoke(cli, ["report", "--instance", inst, "--config", str(cfg), "--plot", str(png)])
        assert r.exit_code == 0, r.output
        assert png.read_bytes()[:4] == b"\x89PNG"
