"""Invoices and credit notes (docs/invoices.md): numbered from a per-store, per-environment,
per-kind, per-year sequence in the transaction that writes them (``numbering``), frozen when
issued (``services``), rendered to PDF after commit (``pdf``, ``billing.tasks``), downloaded by
the merchant from the dashboard and by the buyer through a signed link (``links``)."""
