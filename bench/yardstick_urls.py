"""The yardstick of bench/bench_checkout.py: the least a signed write can cost on this stack.

POST /bench/yardstick verifies one SDK signature against the merchant's key (one query, one RSA
verify) and inserts one row. Everything else is the project's own URLconf, unchanged.
"""

import secrets

from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from pancake.api import ids, signatures
from pancake.models import IdempotencyKey
from stores.models import ApiKey


@csrf_exempt
def yardstick(request):
    body = request.body
    timestamp = request.headers.get("X-Timestamp", "")
    merchant_id = ids.parse_id(request.headers.get("X-Merchant-Id", ""), "MER")
    key = ApiKey.objects.filter(merchant_id=merchant_id).only("public_key_pem").first()
    message = signatures.canonical_string("POST", request.path_info, timestamp, body)
    if key is None or not signatures.verify(
        key.public_key_pem, request.headers.get("X-Signature", ""), message
    ):
        return HttpResponse(status=401)
    row = IdempotencyKey.objects.create(
        principal=f"MER:{merchant_id}",
        environment="test",
        path=request.path_info,
        key=secrets.token_hex(16),
        request_hash="0" * 64,
        created_at=timezone.now(),
    )
    return JsonResponse({"data": {"id": row.pk}})


urlpatterns = [
    path("bench/yardstick", yardstick),
    path("", include("pancake.urls")),
]
