"""What a business buyer's tax ID is called in their country, and what one looks like: the
step 1 field is labelled with the name printed on the buyer's own documents (USt-IdNr. in
Germany, N° TVA in France …), shows an example as its placeholder, and a refused number says
which format it expects. Names are the countries' own terms (not translated); countries without
one are labelled "VAT number" in the page's language."""

from __future__ import annotations

from django.utils.translation import gettext as _

# country -> (the national name of the VAT identification number, or "", an example number).
# Examples follow each country's format (prefix and length); they are not real registrations.
FORMATS: dict[str, tuple[str, str]] = {
    "AT": ("UID-Nummer", "ATU12345678"),
    "BE": ("N° TVA / BTW-nr.", "BE0123456789"),
    "BG": ("ДДС номер", "BG123456789"),
    "CY": ("", "CY12345678X"),
    "CZ": ("DIČ", "CZ12345678"),
    "DE": ("USt-IdNr.", "DE123456789"),
    "DK": ("CVR-nr.", "DK12345678"),
    "EE": ("KMKR nr.", "EE123456789"),
    "ES": ("NIF-IVA", "ESX1234567X"),
    "FI": ("ALV-numero", "FI12345678"),
    "FR": ("N° TVA", "FR12345678901"),
    "GR": ("ΑΦΜ", "EL123456789"),
    "HR": ("OIB", "HR12345678901"),
    "HU": ("Közösségi adószám", "HU12345678"),
    "IE": ("", "IE1234567X"),
    "IT": ("Partita IVA", "IT12345678901"),
    "LT": ("PVM mokėtojo kodas", "LT123456789"),
    "LU": ("N° TVA", "LU12345678"),
    "LV": ("PVN numurs", "LV12345678901"),
    "MT": ("", "MT12345678"),
    "NL": ("BTW-nummer", "NL123456789B01"),
    "PL": ("NIP", "PL1234567890"),
    "PT": ("NIF", "PT123456789"),
    "RO": ("Cod TVA", "RO1234567890"),
    "SE": ("Momsnummer", "SE123456789001"),
    "SI": ("ID za DDV", "SI12345678"),
    "SK": ("IČ DPH", "SK1234567890"),
    "GB": ("", "GB123456789"),
}


def label(country: str | None) -> str:
    """The tax ID field's label for the buyer's country, in the active language where it is
    not the country's own term."""
    if country in FORMATS:
        return FORMATS[country][0] or _("VAT number")
    return _("Tax ID")


def example(country: str | None) -> str:
    return FORMATS[country][1] if country in FORMATS else ""


def format_hint(country: str | None, country_name: str) -> str:
    """'VAT numbers from Germany look like DE123456789.' for a refused number, or '' for a
    country without a known format."""
    if country not in FORMATS:
        return ""
    return _("VAT numbers from %(country)s look like %(example)s.") % {
        "country": country_name,
        "example": FORMATS[country][1],
    }


def labels_for_script() -> dict[str, list[str]]:
    """country -> [label, example] for the page's script (the label changes with the country)."""
    return {code: [label(code), example(code)] for code in FORMATS}
