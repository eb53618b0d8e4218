"""The tax engine: ``calculate`` over one versioned data file of rates and rules."""

from checkout.tax.engine import RULES, TaxResult, calculate, check_country, country_name

__all__ = ["RULES", "TaxResult", "calculate", "check_country", "country_name"]
