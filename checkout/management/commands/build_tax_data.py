"""Build the versioned tax data file from the reference table in checkout/tax/reference/.

    python manage.py build_tax_data --version 2026-11-23 [CSV_PATH] [--output PATH]

reads ``checkout/tax/reference/rates.csv`` (or CSV_PATH) and writes
``checkout/tax/rates/tax-rates-<version>.json``. The app only ever reads that JSON; the CSV is
input to this command, not a run-time dependency. The output is deterministic (same CSV, same
bytes), so a test checks that the committed file is exactly what this command builds.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from checkout.tax.data import RATES_DIR, REFERENCE_DIR

REFERENCE_CSV = REFERENCE_DIR / "rates.csv"

CATEGORIES = (
    "digital_goods",
    "ebook",
    "saas",
    "software",
    "online_course",
    "consulting",
    "professional_service",
)
B2B_RULES = ("reverse_charge", "charge", "none")
# Sanctioned countries: a buyer from one of them is refused with a 403, and the table
# must not rate them.
BLOCKED_COUNTRIES = (
    "AF BI BY CF CD CU GW HT IR IQ LB LY ML MM NI KP RU SD SO SS SY UA YE ZW".split()
)
# The 27 member states (ISO 3166-1 codes; Greece is GR here and EL on VAT numbers).
EU_MEMBER_STATES = (
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
# Where a VAT number's prefix is not the ISO code.
VAT_PREFIXES = {"GR": "EL"}
# Canada: a provincial row with one of these names replaces the national GST row; any other
# provincial row (QST, PST, RST) is added as a second tax line.
REPLACES_NATIONAL = {"CA": ["HST"]}

COLUMNS = (
    "country",
    "region",
    "tax_name",
    "rate_percent",
    "applies_to",
    "b2b_rule",
    "effective_from",
    "source",
    "notes",
)
_CODE = re.compile(r"[A-Z]{2}")
_REGION = re.compile(r"[A-Z0-9]{1,3}")
_RATE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _row(line: int, raw: dict[str, str]) -> dict:
    def bad(message: str) -> CommandError:
        return CommandError(f"line {line}: {message}")

    country = raw["country"].strip()
    region = raw["region"].strip()
    if not _CODE.fullmatch(country):
        raise bad(f"country {country!r} is not an ISO 3166-1 alpha-2 code")
    if country in BLOCKED_COUNTRIES:
        raise bad(f"country {country} is blocked and must not have rates")
    if region and not _REGION.fullmatch(region):
        raise bad(f"region {region!r} is not an ISO 3166-2 subdivision code")
    rate = raw["rate_percent"].strip()
    try:
        if not _RATE.fullmatch(rate) or not Decimal(rate) < 100:
            raise InvalidOperation
    except InvalidOperation:
        raise bad(f"rate_percent {rate!r} is not a percentage like 19 or 9.975") from None
    applies = raw["applies_to"].strip()
    if applies in ("all", "none"):
        applies_to: str | list[str] = applies
    else:
        applies_to = [c.strip() for c in applies.split(";") if c.strip()]
        unknown = [c for c in applies_to if c not in CATEGORIES]
        if unknown or not applies_to:
            raise bad(f"applies_to {applies!r} has unknown categories {unknown}")
    b2b_rule = raw["b2b_rule"].strip()
    if b2b_rule not in B2B_RULES:
        raise bad(f"b2b_rule {b2b_rule!r} is not one of {', '.join(B2B_RULES)}")
    effective_from = raw["effective_from"].strip()
    try:
        date.fromisoformat(effective_from)
    except ValueError:
        raise bad(f"effective_from {effective_from!r} is not a date") from None
    return {
        "country": country,
        "region": region,
        "tax_name": raw["tax_name"].strip(),
        "rate": rate,
        "applies_to": applies_to,
        "b2b_rule": b2b_rule,
        "effective_from": effective_from,
        "source": raw["source"].strip(),
    }


def build(csv_path: Path, version: str) -> str:
    """The JSON text for the CSV at csv_path."""
    try:
        with csv_path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise CommandError(f"{csv_path}: missing columns {', '.join(missing)}")
            rows = [_row(n, raw) for n, raw in enumerate(reader, start=2)]
    except OSError as exc:
        raise CommandError(f"cannot read {csv_path}: {exc}") from exc
    keys = [(r["country"], r["region"], str(r["applies_to"]), r["effective_from"]) for r in rows]
    if len(set(keys)) != len(keys):
        raise CommandError("two rows share country, region, applies_to and effective_from")
    data = {
        "version": version,
        "built_from": csv_path.name,
        "categories": list(CATEGORIES),
        "blocked_countries": sorted(BLOCKED_COUNTRIES),
        "eu_member_states": list(EU_MEMBER_STATES),
        "vat_prefixes": VAT_PREFIXES,
        "replaces_national": REPLACES_NATIONAL,
        "rows": rows,
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Build checkout/tax/rates/tax-rates-<version>.json from the reference rates.csv."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version (the data version) replaces Django's --version (its own version).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument(
            "csv_path",
            type=Path,
            nargs="?",
            default=REFERENCE_CSV,
            help="the reference table (default: checkout/tax/reference/rates.csv)",
        )
        parser.add_argument(
            "--version",
            required=True,
            help="the data version, e.g. 2026-11-23",
        )
        parser.add_argument(
            "--output", type=Path, default=None, help="where to write (default: the rates dir)"
        )

    def handle(self, *args, csv_path: Path, version: str, output: Path | None, **options):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
            raise CommandError("--version must be a date like 2026-11-23")
        text = build(csv_path, version)
        target = output or RATES_DIR / f"tax-rates-{version}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        count = text.count('"effective_from"')
        self.stdout.write(f"Wrote {count} rows to {target}")
