"""Deterministic random draws for the operator simulation.

Every random choice the simulation makes (delay, outcome, offline handset) is a pure function of
the configured seed and fields stored with the message, so a restart in the middle of a run, or
a second run with the same seed and the same traffic, makes exactly the same choices. No
``random.Random`` is created per message: a draw is a few 64-bit integer mixes (the SplitMix64
finaliser) turned into a float in [0, 1).
"""

from __future__ import annotations

import zlib
from typing import Final

MASK64: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
_M1: Final = 0xBF58476D1CE4E5B9
_M2: Final = 0x94D049BB133111EB
_TO_UNIT: Final = 2.0**-53

# One salt per kind of draw, so the draws of one message are independent of each other.
SALT_DELAY: Final = 0x6A09E667F3BCC908
SALT_OUTCOME: Final = 0xBB67AE8584CAA73B
SALT_OFFLINE: Final = 0x3C6EF372FE94F82B
SALT_OFFLINE_DURATION: Final = 0xA54FF53A5F1D36F1
SALT_DELAY_SPREAD: Final = 0x510E527FADE682D1


def mix64(value: int) -> int:
    """The SplitMix64 step: a bijective scramble of a 64-bit integer."""
    z = (value + _GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * _M1) & MASK64
    z = ((z ^ (z >> 27)) * _M2) & MASK64
    return z ^ (z >> 31)


def unit(key: int, salt: int) -> float:
    """A uniform float in [0, 1) for ``key`` and ``salt``."""
    return (mix64(key ^ salt) >> 11) * _TO_UNIT


def number_key(number: str) -> int:
    """A stable integer for an address: its value when it is all ASCII digits, else a CRC.

    Python's ``hash`` of a str changes from process to process, so it is never used here.
    """
    if number.isascii() and number.isdigit():
        return int(number) & MASK64
    return zlib.crc32(number.encode("utf-8", "surrogatepass")) | (1 << 63)


def handset_key(seed: int, message_id: int, destination_addr: str) -> int:
    """The key of one message to one handset: shared by all parts of a long message."""
    return mix64(mix64((seed ^ message_id) & MASK64) ^ number_key(destination_addr))


def part_key(handset: int, part_index: int) -> int:
    """The key of one part, derived from its handset key."""
    return mix64(handset ^ (part_index * _GOLDEN & MASK64))
