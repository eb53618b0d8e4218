"""The versioned tax data file, loaded once per process.

``rates/tax-rates-<version>.json`` is built from the reference table ``reference/rates.csv``
(sources and update steps in ``reference/SOURCES.md``) by ``manage.py build_tax_data``; the
newest version in the directory is the one in force. The lookup rules the engine applies to it
are described in docs/money-and-tax.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

RATES_DIR = Path(__file__).resolve().parent / "rates"
# The vendored reference table: input to build_tax_data and to the tests, never read at run time.
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


@dataclass(frozen=True)
class Row:
    country: str
    region: str
    tax_name: str
    rate_percent: str
    applies_to: str | tuple[str, ...]  # "all", "none" or the categories
    b2b_rule: str  # reverse_charge, charge, none
    effective_from: date
    source: str

    @property
    def rate(self) -> Decimal:
        """The rate as a fraction: '19' -> Decimal('0.19'), '9.975' -> Decimal('0.09975')."""
        return Decimal(self.rate_percent).scaleb(-2)

    def covers(self, category: str) -> bool:
        if self.applies_to == "all":
            return True
        if self.applies_to == "none":
            return False
        return category in self.applies_to


@dataclass(frozen=True)
class TaxData:
    version: str
    categories: frozenset[str]
    blocked_countries: frozenset[str]
    eu_member_states: frozenset[str]
    vat_prefixes: dict[str, str]
    replaces_national: dict[str, frozenset[str]]
    rows: tuple[Row, ...]
    by_place: dict[tuple[str, str], tuple[Row, ...]]
    countries: frozenset[str]

    def has_country(self, country: str) -> bool:
        return country in self.countries

    def has_region(self, country: str, region: str) -> bool:
        return (country, region) in self.by_place

    def vat_prefix(self, country: str) -> str:
        return self.vat_prefixes.get(country, country)

    def country_for_vat_prefix(self, prefix: str) -> str:
        for country, vat_prefix in self.vat_prefixes.items():
            if vat_prefix == prefix:
                return country
        return prefix

    def row_for(self, country: str, region: str, category: str, on: date) -> Row | None:
        """The row in force on ``on`` for the place and category, or None (lookup rules 2-3).

        Rows newer than ``on`` are ignored; per applies_to the newest one wins; a row that lists
        the category beats an ``all``/``none`` row; with no listed match the newest
        ``all``/``none`` row decides (``none`` means 0%, as does None).
        """
        newest: dict[object, Row] = {}
        for row in self.by_place.get((country, region), ()):
            if row.effective_from > on:
                continue
            key = row.applies_to
            if key not in newest or newest[key].effective_from < row.effective_from:
                newest[key] = row
        listed = [r for r in newest.values() if isinstance(r.applies_to, tuple)]
        matching = [r for r in listed if category in r.applies_to]
        if matching:
            return max(matching, key=lambda r: r.effective_from)
        general = [r for r in newest.values() if not isinstance(r.applies_to, tuple)]
        if general:
            return max(general, key=lambda r: r.effective_from)
        if listed:  # only category rows, none of them for this category
            return max(listed, key=lambda r: r.effective_from)
        return None


def _row(raw: dict) -> Row:
    applies = raw["applies_to"]
    return Row(
        country=raw["country"],
        region=raw["region"],
        tax_name=raw["tax_name"],
        rate_percent=raw["rate"],
        applies_to=applies if isinstance(applies, str) else tuple(applies),
        b2b_rule=raw["b2b_rule"],
        effective_from=date.fromisoformat(raw["effective_from"]),
        source=raw["source"],
    )


def data_file() -> Path:
    """The newest versioned file (names sort by their date)."""
    files = sorted(RATES_DIR.glob("tax-rates-*.json"))
    if not files:
        raise RuntimeError(f"no tax data file in {RATES_DIR}; run manage.py build_tax_data")
    return files[-1]


def parse(text: str) -> TaxData:
    raw = json.loads(text)
    rows = tuple(_row(r) for r in raw["rows"])
    by_place: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        by_place.setdefault((row.country, row.region), []).append(row)
    return TaxData(
        version=raw["version"],
        categories=frozenset(raw["categories"]),
        blocked_countries=frozenset(raw["blocked_countries"]),
        eu_member_states=frozenset(raw["eu_member_states"]),
        vat_prefixes=dict(raw["vat_prefixes"]),
        replaces_national={k: frozenset(v) for k, v in raw["replaces_national"].items()},
        rows=rows,
        by_place={k: tuple(v) for k, v in by_place.items()},
        countries=frozenset(row.country for row in rows),
    )


@cache
def load() -> TaxData:
    return parse(data_file().read_text(encoding="utf-8"))
