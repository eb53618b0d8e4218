"""What every page's header needs: the platform name, and for a signed-in merchant the
test/live environment (kept in the session) and the stores for the switcher (queried lazily,
only when a template shows them)."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from pancake.models import Environment
from stores.selectors import active_stores_for

ENVIRONMENT_SESSION_KEY = "environment"
STORE_SESSION_KEY = "store_id"


def current_environment(request) -> str:
    session = getattr(request, "session", None)
    value = session.get(ENVIRONMENT_SESSION_KEY) if session is not None else None
    return value if value in Environment.values else Environment.TEST.value


def dashboard(request):
    context = {"platform_name": settings.PLATFORM_NAME}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context

    def stores():
        return list(active_stores_for(user))

    environment = current_environment(request)
    context.update(
        dashboard_environment=environment,
        dashboard_is_test=environment == Environment.TEST,
        dashboard_stores=SimpleLazyObject(stores),
    )
    return context
