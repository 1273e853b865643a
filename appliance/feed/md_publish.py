"""Publishing MD_EVENT records into the md ring: only the bytes each one uses.

A trade or a BBO uses the header and at most one book level, the first 128 bytes of
the 896-byte record (``shm_layout.records.MD_EVENT``); ``ring.publish_prefix`` copies
``md_used_bytes(n_bids, n_asks)`` of it and keeps that length in the slot, where the
readers' ``ring.read_next_prefix`` finds it. The feed process and the websocket
client's ring sink publish through here.
"""

from numba import njit

from appliance.ipc import ring
from shm_layout.records import MD_EVENT, md_used_bytes

N_BIDS_AT = MD_EVENT.fields["n_bids"][1]
N_ASKS_AT = MD_EVENT.fields["n_asks"][1]

used_bytes = njit(inline="always")(md_used_bytes)


@njit(cache=True, inline="always")
def publish_md(words, seqs, rows, src_row, now_mono_ns):
    """Publish one MD_EVENT (its bytes, ``src_row``); returns its sequence number."""
    nbytes = used_bytes(src_row[N_BIDS_AT], src_row[N_ASKS_AT])
    return ring.publish_prefix(words, seqs, rows, src_row, nbytes, now_mono_ns)


@njit(cache=True)
def publish_md_many(words, seqs, rows, src_rows, start, stop, now_mono_ns):
    """Publish ``src_rows[start:stop]``; returns the last sequence number."""
    n = words[ring.HEAD]
    for r in range(start, stop):
        n = publish_md(words, seqs, rows, src_rows[r], now_mono_ns)
    return n
