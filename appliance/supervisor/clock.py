"""Clock checks: the kernel's own sync state (adjtimex) and an SNTP probe of NTP servers.

Neither needs root nor a network beyond the servers asked: the kernel state is read
with adjtimex(2) in read-only mode, and SNTP (RFC 4330) is one UDP round trip per server.
A quoting appliance whose clock is off misjudges staleness, funding times and the
venue's expiry of orders, so a verdict beyond the limit refuses to quote.
"""

from __future__ import annotations

import ctypes
import os
import socket
import statistics
import struct
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

# --- kernel clock: adjtimex(2) -------------------------------------------------------

STA_UNSYNC = 0x0040  # the kernel's clock is not disciplined by anyone
STA_NANO = 0x2000  # offset and time.tv_usec are in ns instead of us
TIME_ERROR = 5  # adjtimex return value: clock not synchronized

_TIME_STATES = {0: "TIME_OK", 1: "TIME_INS", 2: "TIME_DEL", 3: "TIME_OOP", 4: "TIME_WAIT",
                5: "TIME_ERROR"}


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    # struct timex of <sys/timex.h> on x86_64 Linux: 208 bytes. ctypes inserts the same
    # padding as the C compiler after each int that precedes a long.
    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),  # us
        ("esterror", ctypes.c_long),  # us
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


@dataclass(frozen=True)
class KernelClock:
    synced: bool
    state: int  # adjtimex return value: TIME_OK=0 ... TIME_ERROR=5; -1 if unreadable
    status_flags: int  # STA_* bits
    max_error_us: int
    est_error_us: int
    offset_us: float  # residual offset the kernel PLL is still slewing away


def kernel_clock() -> KernelClock:
    """The kernel's clock discipline state. Raises OSError if adjtimex is refused
    (e.g. a seccomp filter such as systemd's ProtectClock=)."""
    libc = ctypes.CDLL(None, use_errno=True)
    tx = _Timex()
    tx.modes = 0  # read only: no privilege needed
    state = libc.adjtimex(ctypes.byref(tx))
    if state < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"adjtimex: {os.strerror(err)}")
    offset_us = tx.offset / 1000.0 if tx.status & STA_NANO else float(tx.offset)
    return KernelClock(
        synced=not (tx.status & STA_UNSYNC) and state != TIME_ERROR,
        state=state,
        status_flags=tx.status,
        max_error_us=tx.maxerror,
        est_error_us=tx.esterror,
        offset_us=offset_us,
    )


# --- SNTP (RFC 4330) -----------------------------------------------------------------

NTP_PORT = 123
NTP_UNIX_EPOCH_DELTA_S = 2_208_988_800  # 1900-01-01 to 1970-01-01
_NS_PER_S = 1_000_000_000
_MODE_CLIENT = 3
_MODE_SERVER = 4
_VERSION = 4

# Packet, 48 bytes, network order:
#   0 LI(2 bits) VN(3) Mode(3) | 1 stratum | 2 poll | 3 precision (signed log2 s)
#   4 root delay | 8 root dispersion | 12 reference id
#  16 reference ts | 24 originate ts | 32 receive ts | 40 transmit ts  (64-bit each)
_PACKET = struct.Struct("!BBbbII4sQQQQ")


@dataclass(frozen=True)
class NtpSample:
    server: str
    offset_ns: int | None  # server clock minus ours
    delay_ns: int | None  # round trip minus the server's processing time
    stratum: int | None
    error: str | None  # set (and the numbers None) when the server gave no usable answer


def unix_ns_to_ntp(t_ns: int) -> int:
    """A 64-bit NTP timestamp (32.32 fixed point seconds since 1900) of a Unix time in ns."""
    sec, rem_ns = divmod(t_ns, _NS_PER_S)
    frac = (rem_ns << 32) // _NS_PER_S
    return (((sec + NTP_UNIX_EPOCH_DELTA_S) & 0xFFFF_FFFF) << 32) | frac


def ntp_to_unix_ns(ts: int) -> int:
    """Unix ns of a 64-bit NTP timestamp, era chosen as RFC 4330 section 3 says: seconds
    with the top bit clear are after the 2036 rollover (valid 1968-2104)."""
    sec, frac = ts >> 32, ts & 0xFFFF_FFFF
    if not sec & 0x8000_0000:
        sec += 1 << 32
    return (sec - NTP_UNIX_EPOCH_DELTA_S) * _NS_PER_S + ((frac * _NS_PER_S + (1 << 31)) >> 32)


def parse_server(server: str) -> tuple[str, int]:
    """("host", port) of "host", "host:port", "[v6]:port", "[v6]" or a bare IPv6 literal."""
    s = server.strip()
    port_text = ""
    if s.startswith("["):
        end = s.find("]")
        if end < 0 or (s[end + 1:] and not s[end + 1:].startswith(":")):
            raise ValueError(f"bad server address {server!r}: expected [ipv6]:port")
        host, port_text = s[1:end], s[end + 2:]
    elif s.count(":") == 1:
        host, port_text = s.split(":")
    else:  # a name, an IPv4 literal, or an IPv6 literal without port
        host = s
    if not host:
        raise ValueError(f"bad server address {server!r}: no host")
    if not port_text:
        return host, NTP_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad server address {server!r}: port {port_text!r} is not 1..65535")
    return host, int(port_text)


def _error(server: str, text: str) -> NtpSample:
    return NtpSample(server=server, offset_ns=None, delay_ns=None, stratum=None, error=text)


def _exchange(addr: tuple, family: int, deadline_s: float) -> tuple[int, int, bytes]:
    """Send one client request, return (t1_ns, t4_ns, reply). Raises OSError/TimeoutError."""
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        # connect() makes the kernel drop datagrams from any other source address
        sock.connect(addr)
        t1_ns = time.time_ns()
        request = bytearray(48)
        request[0] = (0 << 6) | (_VERSION << 3) | _MODE_CLIENT
        struct.pack_into("!Q", request, 40, unix_ns_to_ntp(t1_ns))
        remaining_s = deadline_s - time.monotonic()
        if remaining_s <= 0:
            raise TimeoutError("timed out")
        sock.settimeout(remaining_s)
        sock.send(request)
        reply = sock.recv(512)
        t4_ns = time.time_ns()
    return t1_ns, t4_ns, reply


def _sample_from_reply(server: str, t1_ns: int, t4_ns: int, reply: bytes) -> NtpSample:
    if len(reply) < _PACKET.size:
        return _error(server, f"short reply: {len(reply)} bytes, need {_PACKET.size}")
    (b0, stratum, _poll, _prec, _rdelay, _rdisp, ref_id,
     _ref_ts, orig_ts, recv_ts, xmit_ts) = _PACKET.unpack_from(reply)
    leap, mode = b0 >> 6, b0 & 0x7
    if mode != _MODE_SERVER:
        return _error(server, f"reply mode {mode}, expected {_MODE_SERVER} (server)")
    sent_ts = unix_ns_to_ntp(t1_ns)
    if orig_ts != sent_ts:
        # not an answer to our request: a stale, duplicated or spoofed packet
        return _error(server, f"originate timestamp {orig_ts:#018x} does not match the "
                              f"transmit timestamp we sent {sent_ts:#018x}; reply rejected")
    if stratum == 0:
        kiss = ref_id.decode("ascii", "replace").strip("\x00")
        return _error(server, f"kiss-o'-death from server (code {kiss!r})")
    if not 1 <= stratum <= 15:
        return _error(server, f"stratum {stratum} (unsynchronized server), expected 1..15")
    if leap == 3:
        return _error(server, "server clock unsynchronized (leap indicator 3)")
    if xmit_ts == 0:
        return _error(server, "server transmit timestamp is zero")
    t2_ns, t3_ns = ntp_to_unix_ns(recv_ts), ntp_to_unix_ns(xmit_ts)
    offset_ns = ((t2_ns - t1_ns) + (t3_ns - t4_ns)) // 2
    delay_ns = (t4_ns - t1_ns) - (t3_ns - t2_ns)
    return NtpSample(server=server, offset_ns=offset_ns, delay_ns=delay_ns, stratum=stratum,
                     error=None)


def sntp_query(server: str, timeout_s: float = 1.0) -> NtpSample:
    """One SNTPv4 exchange with ``server`` ("host", "host:port", "[::1]:123").
    Never raises on bad input or network trouble: the sample carries the error text."""
    deadline_s = time.monotonic() + timeout_s
    try:
        host, port = parse_server(server)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (ValueError, OSError) as err:
        return _error(server, f"cannot resolve: {err}")
    last_error = "no address"
    for family, _type, _proto, _name, addr in infos:  # e.g. ::1 then 127.0.0.1
        try:
            t1_ns, t4_ns, reply = _exchange(addr, family, deadline_s)
        except TimeoutError:
            last_error = f"no reply within {timeout_s:g} s"
            continue
        except OSError as err:
            last_error = f"{addr[0]}: {err.strerror or err}"
            continue
        return _sample_from_reply(server, t1_ns, t4_ns, reply)
    return _error(server, last_error)


# --- verdict ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockVerdict:
    ok: bool
    offset_ns: int | None  # median over answering servers; None if none answered
    kernel: KernelClock
    samples: tuple[NtpSample, ...]
    reasons: tuple[str, ...]  # why not ok; empty when ok
    notes: tuple[str, ...] = ()  # why ok despite an unsynced kernel or silent servers

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "offset_ns": self.offset_ns,
            "kernel": asdict(self.kernel),
            "samples": [asdict(s) for s in self.samples],
            "reasons": list(self.reasons),
            "notes": list(self.notes),
        }

    def render(self) -> str:
        k = self.kernel
        state = _TIME_STATES.get(k.state, "unreadable" if k.state < 0 else str(k.state))
        lines = [
            f"kernel clock: {'synced' if k.synced else 'UNSYNCED'} ({state}, status "
            f"{k.status_flags:#06x}), max error {k.max_error_us / 1000:.3f} ms, "
            f"est error {k.est_error_us / 1000:.3f} ms, pll offset {k.offset_us / 1000:+.3f} ms"
        ]
        if not self.samples:
            lines.append("ntp: no servers configured")
        for s in self.samples:
            if s.error is not None:
                lines.append(f"ntp {s.server}: error: {s.error}")
            else:
                lines.append(f"ntp {s.server}: offset {_ms(s.offset_ns)} ms, "
                             f"delay {_ms(s.delay_ns, signed=False)} ms, stratum {s.stratum}")
        if self.offset_ns is not None:
            lines.append(f"offset (median): {_ms(self.offset_ns)} ms")
        lines.append(f"verdict: {'OK' if self.ok else 'NOT OK'}")
        lines.extend(f"  - {r}" for r in self.reasons)
        if self.ok:
            lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def _ms(ns: int | None, signed: bool = True) -> str:
    if ns is None:
        return "n/a"
    return f"{ns / 1e6:+.3f}" if signed else f"{ns / 1e6:.3f}"


def _kernel_or_unreadable() -> tuple[KernelClock, str | None]:
    try:
        return kernel_clock(), None
    except OSError as err:
        unreadable = KernelClock(synced=False, state=-1, status_flags=0, max_error_us=0,
                                 est_error_us=0, offset_us=0.0)
        return unreadable, f"kernel clock unreadable: {err}"


def check_clock(
    servers: Sequence[str],
    max_offset_ms: float,
    timeout_s: float = 1.0,
    require_ntp: bool = False,
    require_kernel_sync: bool = False,
) -> ClockVerdict:
    """Ask every server, take the median offset of those that answered, and judge it
    against ``max_offset_ms``. Without an NTP answer only the kernel checks apply."""
    kernel, kernel_error = _kernel_or_unreadable()
    samples = tuple(sntp_query(s, timeout_s) for s in servers)
    offsets_ns = [s.offset_ns for s in samples if s.offset_ns is not None]
    offset_ns = int(statistics.median(offsets_ns)) if offsets_ns else None

    reasons: list[str] = []
    if offset_ns is not None and abs(offset_ns) > max_offset_ms * 1e6:
        reasons.append(f"clock offset {offset_ns / 1e6:+.3f} ms exceeds the limit of "
                       f"{max_offset_ms:g} ms (median of {len(offsets_ns)} server(s))")
    if require_ntp and samples and not offsets_ns:
        reasons.append(f"none of the {len(samples)} NTP server(s) answered and "
                       "require_ntp is set")
    if require_kernel_sync and not kernel.synced:
        reasons.append(kernel_error or
                       f"kernel clock is not synchronized (state "
                       f"{_TIME_STATES.get(kernel.state, kernel.state)}, STA_UNSYNC "
                       f"{'set' if kernel.status_flags & STA_UNSYNC else 'clear'}) and "
                       "require_kernel_sync is set")
    notes: list[str] = []  # why a verdict of OK stands despite what the lines above show
    if not kernel.synced and not require_kernel_sync:
        if offset_ns is not None:
            judged = f"the NTP offset, within {max_offset_ms:g} ms, is what is judged"
        elif not samples:
            judged = ("no NTP server is configured (clock.ntp_servers) either, so nothing "
                      "vouches for this clock: fine on the local venue, not for live trading")
        else:
            judged = "and no NTP server answered: nothing vouches for this clock"
        notes.append("the kernel clock's sync flag is not required "
                     f"(clock.require_kernel_sync = false); {judged}")
    if samples and not offsets_ns and not require_ntp:
        notes.append("no NTP server answered; clock.require_ntp = false lets the start go on")
    return ClockVerdict(ok=not reasons, offset_ns=offset_ns, kernel=kernel, samples=samples,
                        reasons=tuple(reasons), notes=tuple(notes))
