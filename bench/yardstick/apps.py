from django.apps import AppConfig


class YardstickConfig(AppConfig):
    name = "bench.yardstick"
    label = "yardstick"
    default_auto_field = "django.db.models.BigAutoField"
