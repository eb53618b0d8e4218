"""Product descriptions are Markdown: stored exactly as sent, rendered to HTML with
anything dangerous removed by nh3 — no script-capable tags, no event handlers, no
javascript:/vbscript:/data: URLs — while ordinary Markdown still renders."""

import html
import re
from html.parser import HTMLParser

import pytest

from tests.products.helpers import (
    ONETIME,
    SUBSCRIPTION,
    create_product,
    product_row,
    update_product,
)

XSS = [
    "<script>alert(1)</script>",
    "Before<script src=https://evil.example/x.js></script>after",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)" />',
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "![pic](javascript:alert(1))",
    "[a](<javascript:alert(1)>)",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>body{display:none}</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="data:text/html,<script>alert(1)</script>">data link</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<a href="javascript&#58;alert(1)">entity colon</a>',
    "[entity](javascript&#58;alert(1))",
    '<a href="&#x6A;avascript:alert(1)">entity letter</a>',
    '<a href="JaVaScRiPt:alert(1)">mixed case</a>',
    "[mixed](JaVaScRiPt:alert(1))",
    '<a href=" javascript:alert(1)">leading space</a>',
    '<a href="java\tscript:alert(1)">tab inside</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<math><mi xlink:href="javascript:alert(1)">m</mi></math>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">m</maction></math>',
    "<b onmouseover=alert(1)>bold</b>",
    '<p onclick="alert(1)">para</p>',
    '<a href="https://ok.example" onclick="alert(1)" style="color:red">ok</a>',
    '<td onmouseover="alert(1)">cell</td>',
    "<details open ontoggle=alert(1)>",
    '<form action="https://evil.example"><input name=x><button>go</button></form>',
    '<button formaction="javascript:alert(1)">b</button>',
    "<scr<script>ipt>alert(1)</script>",
    "<!-- <script>alert(1)</script> -->",
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<table><tr><td background="javascript:alert(1)">x</td></tr></table>',
    '<video><source onerror="alert(1)"></video>',
    '<a href="https://ok.example"><img src=x onerror=alert(1)></a>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<textarea><img src=x onerror=alert(1)></textarea>",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    "<javascript:alert(1)>",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    '<img srcset="javascript:alert(1)">',
    '<a href="jav&#x09;ascript:alert(1)">entity tab</a>',
    '<IMG SRC="jav&#x0A;ascript:alert(1);">',
    '<div style="x:expression(alert(1))">d</div>',
    '<a href="javascript:alert(1)" title="&quot; onmouseover=&quot;alert(1)">quote break</a>',
]
FORBIDDEN_TAGS = {
    "script",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "style",
    "form",
    "input",
    "button",
    "textarea",
    "base",
    "meta",
    "link",
    "noscript",
    "video",
    "source",
    "details",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_safe(rendered: str) -> None:
    parser = _Collect()
    parser.feed(rendered)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in FORBIDDEN_TAGS, rendered
        for name, value in attrs:
            assert not name.startswith("on"), rendered
            assert name not in {"style", "srcdoc", "formaction", "background", "xlink:href"}
            # What a browser would resolve: entities decoded, whitespace and controls dropped.
            url = re.sub(r"[\x00-\x20]", "", html.unescape(value or "")).lower()
            assert not url.startswith(BAD_SCHEMES), rendered
    lowered = rendered.lower()
    for tag in FORBIDDEN_TAGS:
        assert not re.search(rf"<\s*{tag}\b", lowered), rendered


@pytest.mark.parametrize("payload", XSS)
def test_dangerous_markdown_is_stored_verbatim_and_rendered_harmless(api, store, payload):
    data = create_product(api, ONETIME, store, description=payload)

    assert data["description"] == payload
    version = product_row(data).test_version
    assert version.description == payload
    assert version.description_html == data["descriptionHtml"]
    assert data["version"]["descriptionHtml"] == data["descriptionHtml"]
    assert_safe(data["descriptionHtml"])


def test_every_payload_at_once_is_still_harmless(api, store):
    payload = "\n\n".join(XSS)
    data = create_product(api, SUBSCRIPTION, store, description=payload)

    assert product_row(data).test_version.description == payload
    assert_safe(data["descriptionHtml"])


def test_an_update_renders_the_new_description_with_the_same_rules(api, store):
    data = create_product(api, ONETIME, store, description="Plain")
    updated = update_product(
        api, ONETIME, data["id"], description="**New** <img src=x onerror=alert(1)>"
    )

    assert updated["descriptionHtml"].startswith("<p><strong>New</strong>")
    assert_safe(updated["descriptionHtml"])
    v1, v2 = product_row(data).versions.order_by("number")
    assert v1.description_html == "<p>Plain</p>\n"
    assert v2.description_html == updated["descriptionHtml"]


BENIGN = """# Title

Some **bold**, *italic* and `code` text with a [link](https://example.com/docs "Docs").

## Features

- one
- two

1. first
2. second

> quoted

```
block code
```

| Plan | Price |
| ---- | ----- |
| Pro  | $9    |

![Cover](https://example.com/cover.png) [mail](mailto:help@example.com) ~~old~~
"""


def test_ordinary_markdown_still_renders(api, store):
    data = create_product(api, ONETIME, store, description=BENIGN)
    rendered = data["descriptionHtml"]

    assert data["description"] == BENIGN
    for fragment in (
        "<h1>Title</h1>",
        "<h2>Features</h2>",
        "<strong>bold</strong>",
        "<em>italic</em>",
        "<code>code</code>",
        '<a href="https://example.com/docs" title="Docs" rel="noopener noreferrer nofollow">'
        "link</a>",
        "<li>one</li>",
        "<ol>",
        "<blockquote>",
        "<pre><code>block code\n</code></pre>",
        "<table>",
        "<td>Pro</td>",
        '<img src="https://example.com/cover.png" alt="Cover">',
        '<a href="mailto:help@example.com" rel="noopener noreferrer nofollow">mail</a>',
        "<s>old</s>",
    ):
        assert fragment in rendered, fragment
    assert_safe(rendered)


def test_html_in_text_is_escaped_not_dropped(api, store):
    data = create_product(api, ONETIME, store, description="Use `<script>` tags & a < b")
    assert data["descriptionHtml"] == (
        "<p>Use <code>&lt;script&gt;</code> tags &amp; a &lt; b</p>\n"
    )


def test_no_description_renders_nothing(api, store):
    data = create_product(api, ONETIME, store)
    assert data["description"] is None and data["descriptionHtml"] == ""
    assert product_row(data).test_version.description_html == ""
