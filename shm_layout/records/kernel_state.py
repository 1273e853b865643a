"""Per-coin state that survives a restart (single writer, no seqlock): the quote
kernel's words and the estimator block with its layout directory."""

from .. import estimators
from ..constants import KERNEL_STATE_WORDS
from .headers import padded

# --- per-coin kernel state that survives a restart (single writer, no seqlock) --
KERNEL_STATE = padded(
    [
        ("seq", "<i8"),  # bumped by the owner after each update (liveness only)
        ("initialized", "<i8"),
        ("words", "<f8", (KERNEL_STATE_WORDS,)),
    ]
)

# --- per-coin estimator state (single writer, no seqlock). The layout directory comes
# right after seq and initialized, at the same offset in every build, so a build with
# other estimator dtypes can read it and name what changed (shm.estimator_layout_changes).
ESTIMATOR_BLOCK = padded(
    [
        ("seq", "<i8"),  # bumped by the owner after each update (liveness only)
        ("initialized", "<i8"),
        ("layouts", estimators.LAYOUT_ENTRY, (estimators.MAX_ESTIMATORS,)),
        ("state", estimators.ESTIMATOR_STATE),
    ]
)
LAYOUT_DIRECTORY_OFFSET = 16  # of ESTIMATOR_BLOCK.layouts: never moves
assert ESTIMATOR_BLOCK.fields["layouts"][1] == LAYOUT_DIRECTORY_OFFSET
