"""Webhooks (SPEC 9): endpoints, the payloads of outbox events, signing, delivery and its log.

- ``keys``: the platform's signing key pair per environment, and the signature header;
- ``urls``: which destinations may receive events (checked when saved and again when sent);
- ``payload``: an outbox event as the JSON an endpoint receives, by its API version;
- ``endpoints``: the SDK's add/update/remove and the store's default endpoints;
- ``delivery``: fan-out of events into deliveries, one POST attempt, retries, the sweep.
"""
