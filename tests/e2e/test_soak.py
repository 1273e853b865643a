"""A short soak: the appliance trades against the local venue while a random fault
(child or supervisor kill -9, ws drop, 429 burst, slow venue, full disk) hits every
20 s; every invariant must hold at the end. The 15-minute run is in BENCHMARKS.md."""

import json
import subprocess
import sys


def test_soak_when_faults_every_20s_then_every_invariant_holds(tmp_path):
    out = tmp_path / "soak.json"
    p = subprocess.run([sys.executable, "-m", "appliance.cli", "soak", "--minutes", "1.5",
                        "--fault-every", "20", "--seed", "11", "--workdir", str(tmp_path / "work"),
                        "--json", str(out)], capture_output=True, text=True, timeout=900)
    result = json.loads(out.read_text())
    inv = result["invariants"]
    assert len(result["faults"]) >= 3, result["faults"]
    assert inv["fills_at_venue"] > 0, "nothing traded: the soak measured nothing"
    for key in ("fills_lost", "fills_doubled", "fills_unknown_to_venue", "orphan_orders",
                "surviving_processes"):
        assert inv[key] == 0, (key, inv, p.stderr[-2000:])
    assert inv["position_difference"] == 0, inv
    assert inv["unattended_s"] == 0, inv
    assert p.returncode == 0, p.stdout + p.stderr[-2000:]
