"""Where each estimator module's state and config live in the kernel's vectors.

State: one coin's ``KERNEL_STATE.words`` (f8). The first ``HDR`` words are the
kernel's own (book, clocks, counters); then each module owns a block, addressed
by the module with local indices (``st = state[OFF_X:OFF_X + N_STATE_X]``).
Config: one f8 vector, the kernel's own words first, then each module's block.
Both orders are append-only: a new module goes at the end, so a layout change is
visible as a changed ``STATE_WORDS_USED`` (and the shared layout hash).
"""

from shm_layout.constants import KERNEL_STATE_WORDS

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

# --- kernel header words (state) ---------------------------------------------------
H_BID = 0
H_ASK = 1
H_BID_SZ = 2
H_ASK_SZ = 3
H_LAST_EVENT_NS = 4
H_N_EVENTS = 5
H_TICK = 6
H_SRC_PUB_NS = 7
H_EXCH_NS = 8
H_WARM_NS = 9  # event time of the last warm-tier run
H_COLD_NS = 10
H_N_WARM = 11
H_N_COLD = 12
H_POSITION = 13  # our position after the last fill seen (sz)
H_LAST_BOOK_NS = 14
H_LAST_TRADE_NS = 15
H_LAST_CTX_NS = 16
H_TOX_BID = 17  # P(toxic) of a fill now on our bid / ask (warm tier)
H_TOX_ASK = 18
H_BOOK_Z = 19  # 4 scratch (z, R) pairs of the book composite: 19..22 z, 23..26 R
H_BOOK_R = 23
H_N_FILLS = 27
H_FQ_N = 28  # fills queued by on_fill, folded at the next event (it has the config)
H_FQ = 32
FQ_LEN = 8
FQ_W = 6  # ts_ns, side, px, sz, mid_px, position_sz
H_CROSS = H_FQ + FQ_LEN * FQ_W  # outputs written by cross_event (correlation, basis)
X_REF = 0  # reference coin index
X_CORR = 1  # 3 scales
X_BETA = 4  # hedge ratio at 3 scales
X_VALID = 7
X_BASIS = 8
X_BASIS_Z = 9
X_D_BASIS = 10
X_LAG_S = 11
X_LAG_CORR = 12
X_LEAD = 13
X_LEAD_CONF = 14
X_XV_VALID = 15
X_T_NS = 16
N_CROSS = 20
HDR = H_CROSS + N_CROSS

_STATE_BLOCKS = [
    ("vol", vol.N_STATE_VOL),
    ("regime", regime.N_STATE_REGIME),
    ("volclock", volclock.N_STATE_VOLCLOCK),
    ("kappa", kappa.N_STATE_KAPPA),
    ("micro", microprice.N_STATE_MICRO),
    ("flow", flow.N_STATE_FLOW),
    ("hawkes", hawkes.N_STATE_HAWKES),
    ("funding", funding.N_STATE_FUNDING),
    ("spread", spread.N_STATE_SPREAD),
    ("cascade", cascade.N_STATE_CASCADE),
    ("as", adverse_selection.N_STATE_AS),
    ("tox", toxicity.N_STATE_TOX),
    ("queue", queue_position.N_STATE_QUEUE),
    ("book", book_micro.N_STATE_BOOK),
    ("drift", drift_kalman.N_STATE_DRIFT),
    ("xv", correlation.N_STATE_XV),  # this coin vs its reference stream
    ("corr", correlation.N_STATE_CORR),  # used in coin 0's state only (all coins)
    ("fsize", fill_size.N_STATE_FSIZE),  # our fill sizes per side (drift observation)
]


def _offsets(blocks, start):
    out, o = {}, start
    for name, n in blocks:
        out[name] = (o, o + n)
        o += n
    return out, o


STATE, STATE_WORDS_USED = _offsets(_STATE_BLOCKS, HDR)
assert STATE_WORDS_USED <= KERNEL_STATE_WORDS, (STATE_WORDS_USED, KERNEL_STATE_WORDS)

(OS_VOL, OE_VOL), (OS_REG, OE_REG) = STATE["vol"], STATE["regime"]
OS_VC, OE_VC = STATE["volclock"]
OS_KAP, OE_KAP = STATE["kappa"]
OS_MIC, OE_MIC = STATE["micro"]
OS_FLOW, OE_FLOW = STATE["flow"]
OS_HK, OE_HK = STATE["hawkes"]
OS_FUND, OE_FUND = STATE["funding"]
OS_SPR, OE_SPR = STATE["spread"]
OS_CAS, OE_CAS = STATE["cascade"]
OS_AS, OE_AS = STATE["as"]
OS_TOX, OE_TOX = STATE["tox"]
OS_Q, OE_Q = STATE["queue"]
OS_BOOK, OE_BOOK = STATE["book"]
OS_DR, OE_DR = STATE["drift"]
OS_XV, OE_XV = STATE["xv"]
OS_CORR, OE_CORR = STATE["corr"]
OS_FS, OE_FS = STATE["fsize"]

# --- kernel config words --------------------------------------------------------------
K_WARM_NS = 0
K_COLD_NS = 1
K_STALE_NS = 2
K_WARMUP_SAMPLES = 3
K_N_COINS = 4
K_REF = 5  # .. K_REF + 7: reference coin (basis / lead-lag stream) per coin, -1 none
K_CORR_REF = 13  # coin whose correlation and hedge ratio every coin reports
K_KURT_TAIL = 14  # seed 003 phase 8: as_ratio_adjustment = 1 + this * max(kurt, 0)
K_LEADLAG_SAMPLE_S = 15
K_HDR = 16

_CONFIG_BLOCKS = [
    ("vol", vol.N_CONFIG_VOL),
    ("regime", regime.N_CONFIG_REGIME),
    ("volclock", volclock.N_CONFIG_VOLCLOCK),
    ("kappa", kappa.N_CONFIG_KAPPA),
    ("micro", microprice.N_CONFIG_MICRO),
    ("flow", flow.N_CONFIG_FLOW),
    ("hawkes", hawkes.N_CONFIG_HAWKES),
    ("funding", funding.N_CONFIG_FUNDING),
    ("spread", spread.N_CONFIG_SPREAD),
    ("cascade", cascade.N_CONFIG_CASCADE),
    ("as", adverse_selection.N_CONFIG_AS),
    ("tox", toxicity.N_CONFIG_TOX),
    ("queue", queue_position.N_CONFIG_QUEUE),
    ("book", book_micro.N_CONFIG_BOOK),
    ("drift", drift_kalman.N_CONFIG_DRIFT),
    ("corr", correlation.N_CONFIG_CORR),
]
CONFIG, N_CONFIG = _offsets(_CONFIG_BLOCKS, K_HDR)
(CS_VOL, CE_VOL), (CS_REG, CE_REG) = CONFIG["vol"], CONFIG["regime"]
CS_VC, CE_VC = CONFIG["volclock"]
CS_KAP, CE_KAP = CONFIG["kappa"]
CS_MIC, CE_MIC = CONFIG["micro"]
CS_FLOW, CE_FLOW = CONFIG["flow"]
CS_HK, CE_HK = CONFIG["hawkes"]
CS_FUND, CE_FUND = CONFIG["funding"]
CS_SPR, CE_SPR = CONFIG["spread"]
CS_CAS, CE_CAS = CONFIG["cascade"]
CS_AS, CE_AS = CONFIG["as"]
CS_TOX, CE_TOX = CONFIG["tox"]
CS_Q, CE_Q = CONFIG["queue"]
CS_BOOK, CE_BOOK = CONFIG["book"]
CS_DR, CE_DR = CONFIG["drift"]
CS_CORR, CE_CORR = CONFIG["corr"]
