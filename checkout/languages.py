"""Checkout languages: en, zh, ja, ko, de, fr, es. The SDK sends one of 22 BCP 47 cashier tags;
each maps to the nearest checkout language, or to none (the browser's language)."""

import re

# One Accept-Language entry: a language range and its optional weight (RFC 9110, 12.5.4).
_ACCEPT_ENTRY = re.compile(
    r"^\s*(?P<tag>\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)\s*(?:;\s*q\s*=\s*(?P<q>[0-9.]{1,5}))?\s*$"
)

CHECKOUT_LANGUAGES = ("en", "zh", "ja", "ko", "de", "fr", "es")
SDK_TAGS = (
    "en", "pt-BR", "es-MX", "id-ID", "vi-VN", "ru-RU", "en-KE", "es-PE", "es-CO", "es-CL",
    "zh-Hant-TW", "zh-Hant-HK", "th-TH", "ja-JP", "en-NG", "ko-KR", "en-HK", "zh-Hans-HK",
    "pl-PL", "tr-TR", "zh-Hans", "ms-MY",
)  # fmt: skip


def nearest(tag: str | None) -> str | None:
    """'ja-JP' -> 'ja', 'es-MX' -> 'es', 'zh-Hant-TW' -> 'zh', 'de' -> 'de'; 'pt-BR' -> None."""
    if not tag or not isinstance(tag, str):
        return None
    primary = tag.split("-", 1)[0].lower()
    return primary if primary in CHECKOUT_LANGUAGES else None


# Django's language codes (and locale/ directories) for the checkout languages.
_DJANGO_CODES = {"zh": "zh-hans"}


def to_django(code: str | None) -> str:
    """A checkout language as Django's translation machinery names it: 'zh' -> 'zh-hans';
    anything unknown or empty -> 'en'."""
    code = code if code in CHECKOUT_LANGUAGES else "en"
    return _DJANGO_CODES.get(code, code)


def from_request(request) -> str:
    """A public page's checkout language: ``?lang=``, else the browser's Accept-Language."""
    chosen = request.GET.get("lang")
    if chosen in CHECKOUT_LANGUAGES:
        return chosen
    for tag in accepted_tags(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        code = nearest(tag)
        if code:
            return code
    return "en"


def accepted_tags(header: str | None) -> list[str]:
    """The language tags of an Accept-Language header, most wanted first (by weight; equal
    weights keep their order); ``*``, weight 0 and malformed entries are left out."""
    weighted = []
    for position, entry in enumerate((header or "")[:500].split(",")):
        match = _ACCEPT_ENTRY.match(entry)
        if match is None or match["tag"] == "*":
            continue
        try:
            weight = float(match["q"]) if match["q"] is not None else 1.0
        except ValueError:
            continue
        if 0 < weight <= 1:
            weighted.append((-weight, position, match["tag"]))
    return [tag for _, _, tag in sorted(weighted)]
