"""Platform pages that belong to no app: the terms and privacy policy linked from checkouts."""

from django.utils import translation

from checkout import languages
from stores.dashboard import page


def legal(request, name: str):
    """``/legal/terms`` and ``/legal/privacy`` in the checkout language the buyer came with."""
    with translation.override(languages.to_django(languages.from_request(request))):
        return page(request, f"legal/{name}.html")
