"""The [estimator] configuration is derived from the estimator registry: the schema,
ops/default.toml, and the layering (config never imports the estimator kernels)."""

import dataclasses
import subprocess
import sys
import tomllib
from pathlib import Path

from appliance.config import load_config
from appliance.estimator import kernel
from shm_layout.estimators import REGISTRY, EstimatorConfig, header

ROOT = Path(__file__).resolve().parents[2]


def test_schema_when_derived_then_one_table_per_estimator_with_settings_in_registry_order():
    names = [f.name for f in dataclasses.fields(EstimatorConfig)]
    general = [n for n, _, _ in header.GENERAL_SETTINGS]
    tables = [header.CONFIG_SECTION] + [m.NAME for m in REGISTRY if m.CONFIG is not None]
    assert names == general + tables
    for m in REGISTRY:
        if m.CONFIG is not None:
            assert isinstance(getattr(EstimatorConfig(), m.NAME), m.CONFIG)


def test_default_toml_when_read_then_its_estimator_tables_are_exactly_the_registry_s():
    est = tomllib.loads((ROOT / "ops" / "default.toml").read_text())["estimator"]
    defaults = EstimatorConfig()
    for f in dataclasses.fields(EstimatorConfig):
        assert f.name in est, f"ops/default.toml lacks estimator.{f.name}"
        value = getattr(defaults, f.name)
        if dataclasses.is_dataclass(value):
            keys = {g.name for g in dataclasses.fields(value)}
            assert set(est[f.name]) == keys, f"[estimator.{f.name}] keys differ from its dataclass"
    assert set(est) == {f.name for f in dataclasses.fields(EstimatorConfig)}
    assert load_config(ROOT / "ops" / "default.toml").estimator == defaults


def test_kernel_config_when_built_then_one_vector_per_estimator_with_settings():
    cfg = kernel.config_vector(EstimatorConfig(), ("BTC", "ETH"))
    assert cfg.dtype.names == ("tiers",) + tuple(m.NAME for m in REGISTRY if m.CONFIG is not None)
    assert cfg["tiers"]["warm_ns"] == 100_000_000 and cfg["tiers"]["n_coins"] == 2


def test_config_when_imported_then_no_estimator_kernel_is_loaded():
    code = ("import sys, appliance.config; "
            "print([m for m in sys.modules if m.startswith('appliance.estimator')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
