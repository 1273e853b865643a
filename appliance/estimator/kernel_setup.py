"""Kernel set-up: a fresh state (``init_state``) and the config vector (``config_vector``)."""
# ruff: noqa: F405  (the layout's offsets come by star import: compile-time constants)

import numpy as np
from numba import njit

from . import (
    adverse_selection,
    book_micro,
    cascade,
    correlation,
    drift_kalman,
    fill_size,
    flow,
    funding,
    hawkes,
    kappa,
    microprice,
    queue_position,
    regime,
    spread,
    toxicity,
    vol,
    volclock,
)
from .layout import *  # noqa: F403  (offsets are compile-time constants for numba)


@njit(cache=True)
def init_state(state, cfg):
    state[:STATE_WORDS_USED] = 0.0  # noqa: F405
    state[H_TICK] = np.inf
    vol.init(state[OS_VOL:OE_VOL], cfg[CS_VOL:CE_VOL])  # noqa: F405
    regime.init(state[OS_REG:OE_REG], cfg[CS_REG:CE_REG])  # noqa: F405
    volclock.init(state[OS_VC:OE_VC], cfg[CS_VC:CE_VC])  # noqa: F405
    kappa.init(state[OS_KAP:OE_KAP], cfg[CS_KAP:CE_KAP])  # noqa: F405
    microprice.init(state[OS_MIC:OE_MIC], cfg[CS_MIC:CE_MIC])  # noqa: F405
    flow.init(state[OS_FLOW:OE_FLOW], cfg[CS_FLOW:CE_FLOW])  # noqa: F405
    hawkes.init(state[OS_HK:OE_HK], cfg[CS_HK:CE_HK])  # noqa: F405
    funding.init(state[OS_FUND:OE_FUND], cfg[CS_FUND:CE_FUND])  # noqa: F405
    spread.init(state[OS_SPR:OE_SPR], cfg[CS_SPR:CE_SPR])  # noqa: F405
    cascade.init(state[OS_CAS:OE_CAS], cfg[CS_CAS:CE_CAS])  # noqa: F405
    adverse_selection.init(state[OS_AS:OE_AS], cfg[CS_AS:CE_AS])  # noqa: F405
    toxicity.init(state[OS_TOX:OE_TOX], cfg[CS_TOX:CE_TOX])  # noqa: F405
    queue_position.init(state[OS_Q:OE_Q], cfg[CS_Q:CE_Q])  # noqa: F405
    book_micro.init(state[OS_BOOK:OE_BOOK])  # noqa: F405
    drift_kalman.init(state[OS_DR:OE_DR], cfg[CS_DR:CE_DR])  # noqa: F405
    correlation.init_xv(state[OS_XV:OE_XV])  # noqa: F405
    correlation.init_corr(state[OS_CORR:OE_CORR])  # noqa: F405
    fill_size.init(state[OS_FS:OE_FS])  # noqa: F405


def config_vector(est_cfg, coins: tuple[str, ...] | None = None) -> np.ndarray:
    """The kernel's config from ``appliance.config.EstimatorConfig`` (and the coin names,
    for the reference coins of correlation and basis)."""
    from .params import config_head

    c = np.zeros(N_CONFIG)
    config_head(c, est_cfg, coins)
    blocks = (
        (CS_VOL, vol.config_values(est_cfg)),  # noqa: F405
        (CS_REG, regime.config_values(est_cfg)),  # noqa: F405
        (CS_VC, volclock.config_values(est_cfg)),  # noqa: F405
        (CS_KAP, kappa.config_values(est_cfg)),  # noqa: F405
        (CS_MIC, microprice.config_values(est_cfg)),  # noqa: F405
        (CS_FLOW, flow.config_values(est_cfg)),  # noqa: F405
        (CS_HK, hawkes.config_values(est_cfg)),  # noqa: F405
        (CS_FUND, funding.config_values(est_cfg)),  # noqa: F405
        (CS_SPR, spread.config_values(est_cfg)),  # noqa: F405
        (CS_CAS, cascade.config_values(est_cfg)),  # noqa: F405
        (CS_AS, adverse_selection.config_values(est_cfg.adverse_selection)),  # noqa: F405
        (CS_TOX, toxicity.config_values(est_cfg.toxicity)),  # noqa: F405
        (CS_Q, queue_position.config_values(est_cfg.queue)),  # noqa: F405
        (CS_BOOK, book_micro.config_values(est_cfg.book)),  # noqa: F405
        (CS_DR, drift_kalman.config_values(est_cfg.drift)),  # noqa: F405
        (CS_CORR, correlation.config_values(est_cfg.correlation)),  # noqa: F405
    )
    for off, vals in blocks:
        c[off:off + len(vals)] = vals
    return c
