"""Time-sortable 64-bit ids, Mastodon style: milliseconds since the epoch shifted
left 16 bits, with a per-process sequence in the low bits."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime

_lock = threading.Lock()
_last_ms = 0
_seq = 0
# Random start for the low bits so two processes rarely collide in one millisecond.
_salt = int.from_bytes(os.urandom(2), "big")


def new_id(at: datetime | None = None) -> int:
    global _last_ms, _seq
    ms = int(at.timestamp() * 1000) if at is not None else int(time.time() * 1000)
    with _lock:
        if at is None:
            if ms <= _last_ms:
                ms = _last_ms
                _seq = (_seq + 1) & 0xFFFF
                if _seq == _salt & 0xFFFF:
                    ms += 1
                    _last_ms = ms
            else:
                _last_ms = ms
                _seq = _salt
            low = _seq
        else:
            low = int.from_bytes(os.urandom(2), "big")
    return (ms << 16) | low


def id_floor_for_time(at: datetime) -> int:
    """The smallest id that could have been created at `at`."""
    return int(at.timestamp() * 1000) << 16


def parse_id(value: object) -> int | None:
    """An id from client input; None when it is not a valid id."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value < 2**63 else None
    if isinstance(value, str) and value.isdigit() and len(value) <= 19:
        number = int(value)
        return number if 0 < number < 2**63 else None
    return None
