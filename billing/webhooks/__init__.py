"""Webhooks: endpoints, the payloads of outbox events, signing, delivery and its log (the whole
story, for operators and integrators, is docs/webhooks.md).

- ``keys``: the platform's signing key pair per environment, and the signature header;
- ``urls``: which destinations may receive events (checked when saved and again when sent);
- ``payload``: an outbox event as the JSON an endpoint receives, by its API version;
- ``endpoints``: the SDK's add/update/remove and the store's default endpoints;
- ``selectors``: the dashboard's reads, and the access functions (the only way from a
  caller's id to an endpoint or a delivery);
- ``fanout``: committed outbox events into deliveries, in order per order or subscription;
- ``attempts``: claiming a delivery, recording an attempt's outcome, retries, held and resent
  deliveries;
- ``transport``: the HTTP POST itself (pinned address, pools, TLS, the answer's snippet);
- ``channels``: what each channel sends (the signed event, or a chat message);
- ``testevent``: the dashboard's "send test event";
- ``queue``: handing deliveries to the worker task;
- ``sweep``: the periodic safety net.
"""
