from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from stores.models import normalize_email
from stores.services import merchant_get_or_create


class Command(BaseCommand):
    help = (
        "Create a merchant account (or find the existing one) and print its id in both forms: "
        "MER_… (what the SDK's merchantId takes) and the UUID."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the merchant's email address (they sign in with it)")

    def handle(self, *args, email: str, **options):
        email = normalize_email(email)
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"Not a valid email address: {email!r}") from exc
        merchant, created = merchant_get_or_create(email=email)
        self.stdout.write(f"{'Created' if created else 'Found existing'} merchant {merchant.email}")
        self.stdout.write(f"Merchant id: {merchant.short_id}")
        self.stdout.write(f"UUID:        {merchant.pk}")
