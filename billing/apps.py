from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # The payment providers' settings checks (manage.py check).
        from billing import checks  # noqa: F401
