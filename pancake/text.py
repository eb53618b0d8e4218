"""Short free text that people type and others see: the names of stores, products, product groups
and API keys, and the email headers built from stored text.

A *control character* here is a code point that is not text but acts on it:

- every ``Cc`` (the C0 and C1 controls: NUL, tab, line feed, carriage return, DEL, NEL …);
- the line and paragraph separators U+2028 and U+2029 (``Zl``, ``Zp``): line breaks too;
- lone surrogates (``Cs``): not text at all, and no database encoding stores them;
- the format characters (``Cf``), among them the bidirectional embeddings and overrides
  (U+202A–U+202E) and isolates (U+2066–U+2069) that reorder whatever is shown after the name
  (a subject or a list could read differently from what it says), zero-width spaces and the
  byte-order mark, *except* the few that written text needs: the zero-width non-joiner and
  joiner U+200C, U+200D (Indic and Persian scripts, emoji sequences), the directional marks
  U+200E, U+200F and U+061C (names that mix scripts; they reorder nothing past themselves), the
  soft hyphen U+00AD and the tag characters U+E0020–U+E007F (flags such as England's).

Private-use (``Co``) and unassigned (``Cn``) code points are not controls and stay allowed:
refusing ``Cn`` would refuse characters newer than Python's Unicode tables, such as new emoji.
"""

from __future__ import annotations

import unicodedata

from pancake.api.errors import InvalidInput

CONTROL_CHARACTERS = "control_characters"  # the error code
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp"})
_TEXT_FORMAT_CHARACTERS = frozenset("\u00ad\u061c\u200c\u200d\u200e\u200f") | frozenset(
    chr(c) for c in range(0xE0020, 0xE0080)
)


def is_control(char: str) -> bool:
    return unicodedata.category(char) in _CONTROL_CATEGORIES and char not in _TEXT_FORMAT_CHARACTERS


def has_control(text: str) -> bool:
    return any(is_control(char) for char in text)


def check_no_control(value: str, *, field: str = "name", layer: str | None = None) -> str:
    """``value`` unchanged, or a 400 naming ``field`` (code ``control_characters``)."""
    if has_control(value):
        raise InvalidInput(
            f"Invalid {field}: control characters are not allowed",
            layer=layer,
            field=field,
            code=CONTROL_CHARACTERS,
        )
    return value


def header_text(value: str) -> str:
    """One line fit for an email header (a subject, a display name), whatever the text holds:
    line breaks, tabs and other spacing controls become a space, the other control characters
    go, runs of spaces become one. Stored text from before the names were checked, or from
    elsewhere, then still sends instead of failing on a header."""
    kept = ((" " if char.isspace() else "") if is_control(char) else char for char in str(value))
    return " ".join("".join(kept).split())
