"""mmctl inspect's text: grouped by estimator, status codes named."""

from risk_helpers import fresh_segments, set_params

from appliance.cli.inspect import _render, inspect_dict


def test_params_rendered_grouped_with_status_names():
    with fresh_segments("insp") as mem:
        set_params(mem, 0, update_mono_ns=1, vol_status=1, kappa_status=0, kappa_per_bps=0.25,
                   hawkes_buy_intensity_per_s=3.5, drift_bps_per_s=-0.1)
        d = inspect_dict(mem, "params", 0)
    text = _render(d, "BTC")
    lines = text.splitlines()
    assert lines[0].startswith("params [BTC] seq")
    assert "  vol_status = valid (1)" in lines and "  kappa_status = warming (0)" in lines
    sections = [ln for ln in lines if ln.startswith("[")]
    assert sections[:2] == ["[header]", "[status]"]
    for group, field in (("[kappa]", "kappa_per_bps = 0.25"),
                         ("[hawkes]", "hawkes_buy_intensity_per_s = 3.5"),
                         ("[drift]", "drift_bps_per_s = -0.1")):
        i = lines.index(group)
        following = lines[i + 1:]
        end = next((k for k, ln in enumerate(following) if ln.startswith("[")), len(following))
        assert f"  {field}" in following[:end]
    # every field shown once
    assert sum(ln.startswith("  ") for ln in lines) == len(d["fields"])
