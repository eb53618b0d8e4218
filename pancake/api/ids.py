"""Short ids: ``PREFIX_`` + the UUID's 128 bits in base62 (0-9A-Za-z), big-endian, 22 characters.

``STO_2aUyqjCzEIiEcYMKj7TZtw`` is ``550e8400-e29b-41d4-a716-446655440000``.
"""

from __future__ import annotations

import re
import uuid

from pancake.api.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
WIDTH = 22
PREFIXES = {
    "MER": "merchant",
    "STO": "store",
    "PROD": "product",
    "ORD": "order",
    "PAY": "payment",
    "REF": "refund",
    "TKT": "ticket",
}
_SHORT_RE = re.compile(r"^([A-Z]{2,5})_([0-9A-Za-z]+)$")
MAX_VALUE = 1 << 128


# Two base62 digits at a time: 11 divisions instead of 22 (ids are rendered hundreds of times per
# GraphQL list), the last ten digits split off first so that most divisions are of a number of
# one machine word rather than of the whole 128 bits.
_PAIRS = tuple(a + b for a in ALPHABET for b in ALPHABET)
_PAIR_BASE = len(_PAIRS)
_LOW = _PAIR_BASE**5  # ten digits: below 2**60


def encode(prefix: str, value: uuid.UUID | str) -> str:
    n = (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).int
    high, low = divmod(n, _LOW)
    low, p10 = divmod(low, _PAIR_BASE)
    low, p9 = divmod(low, _PAIR_BASE)
    low, p8 = divmod(low, _PAIR_BASE)
    p6, p7 = divmod(low, _PAIR_BASE)
    high, p5 = divmod(high, _PAIR_BASE)
    high, p4 = divmod(high, _PAIR_BASE)
    high, p3 = divmod(high, _PAIR_BASE)
    high, p2 = divmod(high, _PAIR_BASE)
    p0, p1 = divmod(high, _PAIR_BASE)  # the high part is below 62**12: p0 is a pair too
    pairs = _PAIRS
    return (
        f"{prefix}_{pairs[p0]}{pairs[p1]}{pairs[p2]}{pairs[p3]}{pairs[p4]}{pairs[p5]}"
        f"{pairs[p6]}{pairs[p7]}{pairs[p8]}{pairs[p9]}{pairs[p10]}"
    )


def decode_short(value: str, prefix: str, *, field: str = "id") -> uuid.UUID:
    match = _SHORT_RE.match(value)
    if not match:
        raise InvalidInput(f"Invalid {field}: {value!r} is not a valid id")
    got, body = match.groups()
    if got != prefix:
        raise InvalidInput(f"Invalid {field}: expected {prefix}_ prefix, got {got}_")
    if len(body) != WIDTH:
        raise InvalidInput(
            f"Invalid {field}: a {prefix}_ id has {WIDTH} characters after the prefix"
        )
    n = 0
    for char in body:
        n = n * 62 + _INDEX[char]
    if n >= MAX_VALUE:
        raise InvalidInput(f"Invalid {field}: {value!r} is out of range")
    return uuid.UUID(int=n)


def parse_id(value, prefix: str | None, *, field: str = "id") -> uuid.UUID:
    """Accept a UUID (any case, with or without dashes) or, when the field has a prefix, its
    short form. Anything else is a 400 naming the field."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"Invalid {field}: expected an id string")
    value = value.strip()
    if "_" in value:
        if prefix is None:
            raise InvalidInput(f"Invalid {field}: expected a UUID")
        return decode_short(value, prefix, field=field)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(f"Invalid {field}: {value!r} is not a valid id") from None
