"""The committed tax data file is exactly what build_tax_data makes from the vendored reference
table (checkout/tax/reference/rates.csv); a missing table is a failure, not a skip."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from checkout.management.commands import build_tax_data
from checkout.tax.data import REFERENCE_DIR, data_file, load, parse

RATES_CSV = REFERENCE_DIR / "rates.csv"


def test_the_reference_table_is_in_the_repository():
    assert RATES_CSV.is_file(), f"{RATES_CSV} is missing: the tax data cannot be rebuilt"


def test_command_rebuilds_the_committed_file_byte_for_byte(tmp_path):
    committed = data_file()
    version = json.loads(committed.read_text(encoding="utf-8"))["version"]
    target = tmp_path / committed.name
    out = io.StringIO()
    call_command("build_tax_data", str(RATES_CSV), version=version, output=target, stdout=out)
    assert target.read_bytes() == committed.read_bytes()
    assert "Wrote 154 rows" in out.getvalue()


def test_command_reads_the_vendored_table_by_default(tmp_path):
    committed = data_file()
    version = json.loads(committed.read_text(encoding="utf-8"))["version"]
    target = tmp_path / committed.name
    call_command("build_tax_data", version=version, output=target, stdout=io.StringIO())
    assert target.read_bytes() == committed.read_bytes()


def test_command_writes_into_the_rates_directory_by_default(tmp_path, monkeypatch):
    monkeypatch.setattr(build_tax_data, "RATES_DIR", tmp_path)
    call_command("build_tax_data", str(RATES_CSV), version="2030-01-01", stdout=io.StringIO())
    assert parse((tmp_path / "tax-rates-2030-01-01.json").read_text()).version == "2030-01-01"


def test_command_refuses_bad_rows(tmp_path):
    header = "country,region,tax_name,rate_percent,applies_to,b2b_rule,effective_from,source,notes"
    bad_rows = [
        "RU,,VAT,20,all,charge,2020-01-01,x,",  # blocked
        "DE,,VAT,19.x,all,reverse_charge,2020-01-01,x,",  # rate
        "DE,,VAT,19,hardware,reverse_charge,2020-01-01,x,",  # category
        "DE,,VAT,19,all,maybe,2020-01-01,x,",  # b2b rule
        "DE,,VAT,19,all,charge,2020-13-01,x,",  # date
        "Germany,,VAT,19,all,charge,2020-01-01,x,",  # country code
    ]
    for line in bad_rows:
        path = tmp_path / "rates.csv"
        path.write_text(f"{header}\n{line}\n", encoding="utf-8")
        with pytest.raises(CommandError, match="line 2"):
            call_command("build_tax_data", str(path), version="2030-01-01", output=tmp_path / "o")
    with pytest.raises(CommandError, match="--version"):
        call_command("build_tax_data", str(path), version="latest", output=tmp_path / "o")


def test_the_data_file_holds_the_blocked_and_eu_lists():
    data = load()
    assert data.blocked_countries == set(
        "AF BI BY CF CD CU GW HT IR IQ LB LY ML MM NI KP RU SD SO SS SY UA YE ZW".split()
    )
    assert len(data.eu_member_states) == 27
    assert "GR" in data.eu_member_states and "GB" not in data.eu_member_states
    assert not any(row.country in data.blocked_countries for row in data.rows)
