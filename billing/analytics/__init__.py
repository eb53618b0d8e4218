"""The merchant's figures: revenue, MRR, subscriptions, customers, refunds, tax, products, from
one place. ``periods`` turns a store's local dates and a granularity into UTC windows and period
buckets; the metrics and statistics modules compute every figure the dashboard pages and the
GraphQL analytics roots show."""
