"""Reading a rendered dashboard page the way a test needs to: which inputs have no label, which
errors show beside an input, and which show above the form."""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser


def field_errors(html: str, field: str) -> list[str]:
    """The error messages shown beside one form input (Django's ``<ul id="id_<field>_error">``,
    which the input's ``aria-describedby`` names)."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    if match is None:
        return []
    return [html_lib.unescape(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1))]


def alerts(html: str) -> list[str]:
    """The messages of the error alerts: a page's error, and a form's errors about no input."""
    found = re.findall(r'<div class="alert alert--error" role="alert">(.*?)</div>', html, re.S)
    return [
        html_lib.unescape(re.sub(r"<[^>]+>", "", text)).strip()
        for block in found
        for text in re.findall(r"<p>(.*?)</p>", block, re.S)
    ]


class _Controls(HTMLParser):
    """Collects form controls and the ids that <label for> points at."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label" and attrs.get("for"):
            self.label_for.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in (
            "hidden",
            "submit",
            "button",
        ):
            self.controls.append(attrs)


def unlabelled_controls(html: str) -> list[dict]:
    """The form controls no <label for> names (each must have a visible label)."""
    parser = _Controls()
    parser.feed(html)
    return [c for c in parser.controls if c.get("id") not in parser.label_for]
