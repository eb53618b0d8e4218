"""The tax engine (SPEC 6.2): ``calculate`` over one versioned data file of rates and rules."""

from checkout.tax.engine import TaxResult, calculate

__all__ = ["TaxResult", "calculate"]
