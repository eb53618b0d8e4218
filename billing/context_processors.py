"""What the dashboard's layout needs from billing: whether this deployment can take real
payments (``billing.providers.live_payments_available``), for the Live-mode banner."""

from billing.providers import live_payments_available


def live_payments(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"live_payments_ready": live_payments_available()}
