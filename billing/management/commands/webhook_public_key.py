"""Print the public key (SPKI PEM) that receivers verify this server's webhooks with."""

from django.core.management.base import BaseCommand

from billing.webhooks import keys


class Command(BaseCommand):
    help = "Print the webhook signing public key of an environment (PEM)."

    def add_arguments(self, parser):
        parser.add_argument("--env", choices=("test", "prod"), default="test")

    def handle(self, *args, **options):
        self.stdout.write(keys.public_pem(options["env"]).rstrip("\n"))
