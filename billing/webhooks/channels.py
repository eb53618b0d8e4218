"""What one attempt sends, per channel: for ``http`` the frozen event body, signed afresh at
each attempt (``X-Waffo-Signature``, see ``keys``) with the event's headers; for the chat
channels (Slack, Discord, Telegram, Feishu) a short human-readable message in the service's
incoming-webhook format, signed for Feishu when the endpoint has a secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from billing.models import WebhookChannel, WebhookDelivery
from billing.webhooks import keys


def _chat_message(delivery: WebhookDelivery) -> dict:
    """A short, human-readable message for the chat channels."""
    body = json.loads(delivery.body)
    data = body.get("data") or {}
    mode = "" if body.get("mode") == "prod" else "[test] "
    amount = data.get("chargedAmount") or data.get("refundedAmount") or data.get("total")
    parts = [f"{mode}{body.get('storeName')}: {body.get('eventType')}"]
    if data.get("productName"):
        parts.append(str(data["productName"]))
    if amount is not None and data.get("currency"):
        parts.append(f"{amount} {data['currency']}")
    if data.get("buyerEmail"):
        parts.append(str(data["buyerEmail"]))
    text = " · ".join(parts)
    if delivery.channel == WebhookChannel.SLACK:
        return {"text": text}
    if delivery.channel == WebhookChannel.DISCORD:
        return {"content": text}
    if delivery.channel == WebhookChannel.TELEGRAM:
        return {"text": text}
    return {"msg_type": "text", "content": {"text": text}}  # feishu


def _feishu_sign(secret: str) -> dict:
    timestamp = str(int(time.time()))
    key = f"{timestamp}\n{secret}".encode()
    sign = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    return {"timestamp": timestamp, "sign": sign}


def request_for(delivery: WebhookDelivery) -> tuple[bytes, dict, int | None]:
    """(body, headers, signing time in ms or None) of one attempt of ``delivery``."""
    headers = {"Content-Type": "application/json", "User-Agent": "Pancake-Webhooks/1.0"}
    if delivery.channel == WebhookChannel.HTTP:
        signature, signed_at = keys.signature_header(delivery.environment, delivery.body)
        headers.update(
            {
                keys.SIGNATURE_HEADER: signature,
                "X-Environment": delivery.environment,
                "X-Pancake-Event": delivery.event_type,
                "X-Pancake-Delivery": str(delivery.pk),
            }
        )
        return delivery.body.encode(), headers, signed_at
    message = _chat_message(delivery)
    secret = delivery.endpoint.secret if delivery.endpoint else None
    if delivery.channel == WebhookChannel.FEISHU and secret:
        message.update(_feishu_sign(secret))
    return json.dumps(message, ensure_ascii=False).encode(), headers, None
