"""The merchant's Payments and Refund tickets pages' reads (docs/dashboard-payments.md).

- ``fees``: the platform's fee on a charge (frozen on the payment, else computed from the
  settings) and what the merchant nets.
- ``selectors``: the payments list of a store and environment (filters, counts per status,
  keyset pages, the CSV export's chunked reads), one payment's detail, and the refund tickets
  list and detail.
"""
