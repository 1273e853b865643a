"""Quoting presets: named transformations of a configuration.

* ``unified`` (the default): the configuration as given; every quoting decision
  flows from per-level expected PnL; opt-in (issue 16): a level also needs its own
  edge against the fair price (``edge_vs_fair``), the drift weighted by its scored
  skill (``drift_skill_weight``) and capped by sigma (``drift_cap_sigmas``), a level
  whose E[PnL] is not positive moved out to where it is instead of dropped
  (``epnl_move_out``); on by default (issue 16): the accumulating side sized to a soft
  inventory limit (``inventory_soft_limit_frac``, every preset but legacy); both sides pulled while
  the spread is far above its fair one (liquidity withdrawn), until a sweep shows the
  move's side (``toxicity_pull_spread_ratio``, ``toxicity_pull_sweep_levels``); optional
  requotes paced by a budget earned by volume (``gateway.requote_requests_per_usd``).
* ``legacy``: the old system as a yardstick, not a mode to trade: drift shift
  clamped at +-3 bps, discrete zones at 60/80/100 %, the binary gate at 50 % acting,
  the toxicity size cut of 3-17 %, beta 3 (the old 1 + 3 u^2), no E[PnL] filter
  (even split), symmetric kappa (flow multipliers 1, as the seed's rollback), the raw
  drift (no skill weight, no OU horizon, no sigma cap), sized up to the hard limit,
  requotes paced without the volume-earned request budget.
* ``no_as``: GLFT without any adverse-selection term: no AS(d), no toxicity in
  gamma or AS, the E[PnL] filter on what remains (fees, drift, inventory, carry),
  without the own-edge rule of issue 16 (``edge_vs_fair``), the move-out of a losing
  level (``epnl_move_out``), the toxicity pulls and the volume-earned request budget,
  as the proof ran it; the drift as unified weighs it (not an AS term).
"""

from __future__ import annotations

import dataclasses

from appliance.config import Config, load_config

PRESETS = ("unified", "legacy", "no_as")


class UnknownPresetError(ValueError):
    """A preset name that is not one of PRESETS."""


def _without_volume_budget(cfg: Config):
    # the yardsticks pace their requotes as they were measured, before the volume budget
    # became a default (issue 16): its effect is unified's to show
    return dataclasses.replace(cfg.gateway, requote_requests_per_usd=0.0)


def _legacy(cfg: Config) -> Config:
    q = dataclasses.replace(
        cfg.quote, drift_clamp_bps=3.0, legacy_zones=True, legacy_gate=True,
        toxicity_size_cut=True, inventory_beta=3.0, use_epnl_filter=False, edge_vs_fair=False,
        use_directional_kappa=False, toxicity_gamma_weight=0.0, drift_skill_weight=False,
        drift_cap_sigmas=0.0, toxicity_pull_p=0.0, toxicity_pull_gap=0.0,
        toxicity_pull_spread_ratio=0.0, inventory_soft_limit_frac=1.0,
        epnl_move_out=False, volume_credit_bps=0.0, as_momentum_rest_s=0.0, size_by_edge=True)
    return dataclasses.replace(cfg, quote=q, gateway=_without_volume_budget(cfg))


def _no_as(cfg: Config) -> Config:
    # as before issue 16: the yardstick stays put
    q = dataclasses.replace(cfg.quote, use_adverse_selection=False, toxicity_gamma_weight=0.0,
                            edge_vs_fair=False, epnl_move_out=False, toxicity_pull_p=0.0,
                            toxicity_pull_gap=0.0, toxicity_pull_spread_ratio=0.0,
                            volume_credit_bps=0.0)
    return dataclasses.replace(cfg, quote=q, gateway=_without_volume_budget(cfg))


_TRANSFORMS = {"unified": lambda cfg: cfg, "legacy": _legacy, "no_as": _no_as}


def apply_preset(name: str, cfg: Config) -> Config:
    """``cfg`` with preset ``name`` applied."""
    fn = _TRANSFORMS.get(name)
    if fn is None:
        raise UnknownPresetError(f"unknown quote preset {name!r}; known: {', '.join(PRESETS)}")
    return fn(cfg)


def preset_config(name: str, base: Config | None = None) -> Config:
    """The configuration of preset ``name``, on top of ``base`` (default: built-in)."""
    return apply_preset(name, load_config() if base is None else base)
