"""Checkout branding in the SDK's ``checkoutSettings`` shape:
``{defaultDarkMode, light: Theme, dark: Theme}``, Theme = ``{checkoutLogo, checkoutColorPrimary,
checkoutColorBackground, checkoutColorCard, checkoutColorText, checkoutBorderRadius}``."""

from __future__ import annotations

import base64
import copy
import hashlib
import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from pancake.api.errors import InvalidInput

THEME_KEYS = (
    "checkoutLogo",
    "checkoutColorPrimary",
    "checkoutColorBackground",
    "checkoutColorCard",
    "checkoutColorText",
    "checkoutBorderRadius",
)
COLOR_KEYS = THEME_KEYS[1:5]
DEFAULTS = {
    "defaultDarkMode": False,
    "light": {
        "checkoutLogo": None,
        "checkoutColorPrimary": "#7CCB02",
        "checkoutColorBackground": "#FFFFFF",
        "checkoutColorCard": "#F3F4F6",
        "checkoutColorText": "#111827",
        "checkoutBorderRadius": "8px",
    },
    "dark": {
        "checkoutLogo": None,
        "checkoutColorPrimary": "#ADFF85",
        "checkoutColorBackground": "#0A1A1F",
        "checkoutColorCard": "#0A1A1F",
        "checkoutColorText": "#FFFFFF",
        "checkoutBorderRadius": "8px",
    },
}
SECONDARY_TEXT = "#8C8C8C"
_COLOR_RE = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_RADIUS_RE = re.compile(r"^(\d+(?:\.\d+)?)(px|rem|em)?$")
_PX_PER = {"px": 1.0, "rem": 16.0, "em": 16.0}


def defaults() -> dict:
    return copy.deepcopy(DEFAULTS)


def _radius(value, field: str) -> str:
    if isinstance(value, bool):
        raise InvalidInput(
            f'Invalid {field}: expected a CSS length such as "8px"', layer="store", field=field
        )
    if isinstance(value, int | float):
        if not 0 <= value <= 16:  # before formatting: a huge int does not convert to float
            raise InvalidInput(
                f"Invalid {field}: must be between 0 and 16px", layer="store", field=field
            )
        value = f"{value:g}px"
    match = _RADIUS_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise InvalidInput(
            f'Invalid {field}: expected a CSS length such as "8px"', layer="store", field=field
        )
    number, unit = float(match.group(1)), match.group(2) or "px"
    if not 0 <= number * _PX_PER[unit] <= 16:
        raise InvalidInput(
            f"Invalid {field}: must be between 0 and 16px", layer="store", field=field
        )
    return f"{match.group(1)}{unit}"


_HTTP_URL = URLValidator(schemes=["http", "https"])


def logo_url(value) -> str | None:
    """``value`` if it is a logo URL the store's settings accept, else None. The URL validator
    the store's own logo field uses: a host is required, a malformed URL is refused rather than
    crashing urlsplit, and NUL (which PostgreSQL's jsonb refuses) is out."""
    if not isinstance(value, str) or len(value) > 2000 or "\x00" in value:
        return None
    try:
        _HTTP_URL(value)
    except ValidationError:
        return None
    return value


def _logo(value, field: str):
    if value is None:
        return None
    if logo_url(value) is None:
        message = f"Invalid {field}: expected an http(s) URL or null"
        raise InvalidInput(message, layer="store", field=field)
    return value


def is_color(value) -> bool:
    """``#RGB`` or ``#RRGGBB``."""
    return isinstance(value, str) and _COLOR_RE.fullmatch(value) is not None


def merge(current: dict | None, patch: dict | None) -> dict | None:
    """Apply a partial update to the stored settings. ``None`` resets to the defaults."""
    if patch is None:
        return None
    if not isinstance(patch, dict):
        raise InvalidInput(
            "Invalid checkoutSettings: expected an object or null",
            layer="store",
            field="checkoutSettings",
        )
    result = copy.deepcopy(current) if current else defaults()
    for key, value in patch.items():
        if key == "defaultDarkMode":
            if not isinstance(value, bool):
                raise InvalidInput(
                    "Invalid checkoutSettings.defaultDarkMode: expected a boolean",
                    layer="store",
                    field="checkoutSettings.defaultDarkMode",
                )
            result["defaultDarkMode"] = value
        elif key in ("light", "dark"):
            if value is None:
                result[key] = copy.deepcopy(DEFAULTS[key])
                continue
            if not isinstance(value, dict):
                raise InvalidInput(
                    f"Invalid checkoutSettings.{key}: expected an object",
                    layer="store",
                    field=f"checkoutSettings.{key}",
                )
            for theme_key, theme_value in value.items():
                field = f"checkoutSettings.{key}.{theme_key}"
                if theme_key not in THEME_KEYS:
                    continue
                if theme_value is None and theme_key != "checkoutLogo":
                    result[key][theme_key] = DEFAULTS[key][theme_key]
                elif theme_key == "checkoutLogo":
                    result[key][theme_key] = _logo(theme_value, field)
                elif theme_key == "checkoutBorderRadius":
                    result[key][theme_key] = _radius(theme_value, field)
                elif is_color(theme_value):
                    result[key][theme_key] = theme_value.upper()
                else:
                    raise InvalidInput(
                        f'Invalid {field}: expected a hex colour such as "#7CCB02"',
                        layer="store",
                        field=field,
                    )
    return result


def effective(settings: dict | None) -> dict:
    return settings or defaults()


_CSS_VARS = {
    "--brand-primary": "checkoutColorPrimary",
    "--brand-background": "checkoutColorBackground",
    "--brand-card": "checkoutColorCard",
    "--brand-text": "checkoutColorText",
}


def theme(settings: dict | None, dark: bool | None = None) -> tuple[str, dict]:
    """("light" | "dark", that theme with defaults filled in). ``dark`` None follows the store's
    ``defaultDarkMode`` (a session's ``darkMode`` overrides it)."""
    current = effective(settings)
    if dark is None:
        dark = bool(current.get("defaultDarkMode"))
    name = "dark" if dark else "light"
    return name, {**DEFAULTS[name], **(current.get(name) or {})}


def store_look(store, dark: bool | None = None) -> tuple[str, dict, str | None]:
    """(theme name, that theme, logo) of a store's checkout: the theme's logo, else the store's
    own. What step 1 of the checkout shows and what the provider's page is handed."""
    name, values = theme(store.checkout_settings, dark)
    return name, values, values.get("checkoutLogo") or store.logo or None


_DARK_TEXT, _LIGHT_TEXT = "#111827", "#FFFFFF"


def _luminance(color: str) -> float:
    """WCAG relative luminance of ``#RGB`` or ``#RRGGBB``."""
    digits = color[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = []
    for i in (0, 2, 4):
        c = int(digits[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#RGB`` / ``#RRGGBB`` colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def on_primary(primary, name: str) -> str:
    """The text colour for buttons in the theme's primary colour: whichever of near-black and
    white contrasts more with it (a store may pick a dark primary). Always one of the two."""
    if not is_color(primary):
        primary = DEFAULTS[name]["checkoutColorPrimary"]
    if contrast(primary, _DARK_TEXT) >= contrast(primary, _LIGHT_TEXT):
        return _DARK_TEXT
    return _LIGHT_TEXT


def _rgb(color: str) -> tuple[int, int, int]:
    digits = color[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _mix(first: str, second: str, share: float) -> str:
    """``first`` with ``share`` (0 to 1) of ``second`` mixed in, per sRGB channel."""
    channels = zip(_rgb(first), _rgb(second), strict=True)
    return "#" + "".join(f"{round(a + (b - a) * share):02X}" for a, b in channels)


MIN_TEXT_CONTRAST = 4.5  # WCAG AA, normal-size text


def muted_text(values: dict, name: str) -> str:
    """The secondary text colour of a theme: the platform's grey where it reads (4.5:1) on
    both the theme's background and its card, else the grey moved toward the theme's text
    colour just far enough that it does (the text colour itself if nothing short of it does)."""
    text = _color_or_default(values, "checkoutColorText", name)
    surfaces = [
        _color_or_default(values, key, name)
        for key in ("checkoutColorBackground", "checkoutColorCard")
    ]
    for step in range(11):
        muted = _mix(SECONDARY_TEXT, text, step / 10)
        if all(contrast(muted, surface) >= MIN_TEXT_CONTRAST for surface in surfaces):
            return muted
    return text.upper()


def _color_or_default(values: dict, key: str, name: str) -> str:
    value = values.get(key)
    return value if is_color(value) else DEFAULTS[name][key]


def css_hash(css: str) -> str:
    """The CSP source hash (base64 SHA-256) of a <style> element's text."""
    return base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()


def theme_css(values: dict, name: str, selector: str) -> str:
    """A theme as CSS custom properties on ``selector``. Every value is checked again here (it
    goes into a <style> element verbatim): a bad one falls back to the default."""
    defaults_ = DEFAULTS[name]
    lines = []
    for var, key in _CSS_VARS.items():
        value = str(values.get(key) or "")
        lines.append(f"{var}:{value if is_color(value) else defaults_[key]};")
    radius = str(values.get("checkoutBorderRadius") or "")
    match = _RADIUS_RE.match(radius)
    if not match or float(match.group(1)) * _PX_PER[match.group(2) or "px"] > 16:
        radius = defaults_["checkoutBorderRadius"]
    elif not match.group(2):
        radius += "px"
    lines.append(f"--brand-radius:{radius};")
    lines.append(f"--brand-muted:{muted_text(values, name)};")
    lines.append(f"--brand-on-primary:{on_primary(values.get('checkoutColorPrimary'), name)};")
    return selector + "{" + "".join(lines) + "}"
