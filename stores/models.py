import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pancake.api.ids import encode
from pancake.api.versions import LATEST, ApiVersion
from pancake.models import BaseModel, Environment

# The SDK's 21 notification switches, all on by default.
NOTIFICATION_KEYS = (
    "emailOrderConfirmation",
    "emailSubscriptionConfirmation",
    "emailSubscriptionCycled",
    "emailSubscriptionCanceled",
    "emailSubscriptionRevoked",
    "emailSubscriptionPastDue",
    "emailTrialStarted",
    "emailTrialEnding",
    "emailUpcomingCharge",
    "emailSubscriptionPlanChanged",
    "emailRefundSucceeded",
    "notifyNewOrders",
    "notifyNewSubscriptions",
    "notifySubscriptionCanceled",
    "notifySubscriptionEnded",
    "notifySubscriptionPastDue",
    "notifySubscriptionRenewed",
    "notifySubscriptionUncanceled",
    "notifySubscriptionPlanChanged",
    "notifyChargeback",
    "notifyRefundSucceeded",
)
MERCHANT_WRITABLE_NOTIFICATION_KEYS = frozenset(
    [k for k in NOTIFICATION_KEYS if k.startswith("notify")]
    + ["emailUpcomingCharge", "emailTrialEnding"]
)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


class MerchantManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        merchant = self.model(email=normalize_email(email), **extra)
        if password:
            merchant.set_password(password)
        else:
            merchant.set_unusable_password()
        merchant.save(using=self._db)
        return merchant

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class Merchant(AbstractBaseUser, PermissionsMixin):
    """A person who sells: signs in to the dashboard, owns API keys, belongs to stores."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    locale = models.CharField(max_length=16, default="en")
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Small dashboard choices remembered for the merchant (stores.services.merchant_preference_set):
    # ``analyticsGranularity``, ``checklistDismissed`` (store ids).
    preferences = models.JSONField(default=dict, blank=True)
    # API requests a second for this merchant's keys and JWTs (support raises it in the admin);
    # empty: the platform's default (API_RATE_LIMIT). pancake.api.ratelimit reads it.
    api_rate_limit = models.PositiveIntegerField(
        _("API rate limit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Requests per second for this merchant's API keys; the burst grows in proportion. "
            "Empty: the platform's default."
        ),
    )

    objects = MerchantManager()

    class Meta:
        permissions = [("can_unlock_rate_limit", "Can unlock a merchant's API rate limit")]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    @property
    def short_id(self) -> str:
        return encode("MER", self.id)


class StoreStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    SUSPENDED = "suspended", _("Suspended")


class Store(BaseModel):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=80, unique=True)
    status = models.CharField(
        max_length=16, choices=StoreStatus.choices, default=StoreStatus.ACTIVE
    )
    logo = models.URLField(max_length=2000, null=True, blank=True)
    description = models.TextField(blank=True, default="")
    support_email = models.EmailField(null=True, blank=True)
    website = models.URLField(max_length=500, null=True, blank=True)
    default_currency = models.CharField(max_length=3, default="USD")
    country = models.CharField(max_length=2, blank=True, default="")
    timezone = models.CharField(max_length=64, default="UTC")
    notification_settings = models.JSONField(default=dict, blank=True)
    checkout_settings = models.JSONField(null=True, blank=True)
    prod_enabled = models.BooleanField(default=False)
    # The seller on the store's invoices (frozen into each document when it is issued): the
    # legal name (empty: the store's name), the postal address and the tax id.
    legal_name = models.CharField(max_length=200, blank=True, default="")
    address_line1 = models.CharField(max_length=200, blank=True, default="")
    address_line2 = models.CharField(max_length=200, blank=True, default="")
    address_city = models.CharField(max_length=100, blank=True, default="")
    address_postcode = models.CharField(max_length=20, blank=True, default="")
    address_state = models.CharField(max_length=100, blank=True, default="")
    address_country = models.CharField(max_length=2, blank=True, default="")
    tax_id = models.CharField(max_length=40, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("can_suspend_store", "Can suspend or reactivate a store")]
        indexes = [models.Index(fields=["deleted_at"], name="store_deleted_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def seller_name(self) -> str:
        """The name invoices carry: the legal name, else the store's name."""
        return self.legal_name or self.name

    @property
    def notifications(self) -> dict[str, bool]:
        stored = self.notification_settings or {}
        return {key: bool(stored.get(key, True)) for key in NOTIFICATION_KEYS}


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")


ROLE_RANK = {Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class MembershipStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACTIVE = "active", _("Active")


class StoreMembership(BaseModel):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    status = models.CharField(
        max_length=16, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "merchant"], name="membership_unique_per_store"
            ),
            models.UniqueConstraint(
                fields=["store"], condition=Q(role="owner"), name="one_owner_per_store"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.role} of {self.store_id}"


class ApiKey(BaseModel):
    """A merchant's RSA public key. The private key never reaches the server."""

    merchant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    environment = models.CharField(max_length=8, choices=Environment.choices)
    api_version = models.CharField(max_length=16, choices=ApiVersion.choices, default=LATEST)
    public_key_pem = models.TextField()
    fingerprint = models.CharField(max_length=64)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "fingerprint"], name="api_key_unique_per_merchant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"


class MagicLink(models.Model):
    """A single-use sign-in link. Only the token's hash is stored. A merchant's dashboard link
    has no store; a buyer's customer-portal link names the store and environment it opens."""

    id = models.BigAutoField(primary_key=True)
    email = models.EmailField(db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    next_url = models.CharField(max_length=500, blank=True, default="")
    store = models.ForeignKey(
        "Store", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    environment = models.CharField(max_length=8, choices=Environment.choices, blank=True)

    def __str__(self) -> str:
        return f"sign-in link for {self.email}"


class BuyerSession(models.Model):
    """The server side of a buyer session token: 5 minutes, extended at each use, capped at
    60 minutes from issue. ``id`` is the token's ``jti``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="buyer_sessions")
    product_id = models.UUIDField(null=True, blank=True)
    buyer_identity = models.CharField(max_length=320)
    environment = models.CharField(max_length=8, choices=Environment.choices)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    max_expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["max_expires_at"], name="buyer_session_expiry_idx")]

    def __str__(self) -> str:
        return f"buyer session of {self.buyer_identity} ({self.environment})"


class PayoutSetup(BaseModel):
    """The store's payout setup (the Finance page's three steps; its business details are the
    store's own seller fields). The contact email is verified by a 6-digit code sent to it: only
    the code's hash is kept, with its expiry, the wrong tries and when it was sent (the resend
    cooldown). The payout account keeps only what the page shows: the holder, the bank country,
    the kind of number and its last 4 characters, never the whole IBAN or account number."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="payout_setup")
    contact_email = models.EmailField(blank=True, default="")
    email_verified_at = models.DateTimeField(null=True, blank=True)
    code_hash = models.CharField(max_length=64, blank=True, default="")
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    account_holder = models.CharField(max_length=200, blank=True, default="")
    bank_country = models.CharField(max_length=2, blank=True, default="")
    account_kind = models.CharField(max_length=8, blank=True, default="")  # iban | account
    account_last4 = models.CharField(max_length=4, blank=True, default="")
    account_set_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"payout setup of {self.store_id}"


# --- the notification center ---------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    PAYMENT = "payment", _("New payment")
    PAYMENT_FAILED = "payment_failed", _("Failed payment")
    REFUND_REQUEST = "refund_request", _("Refund request")
    SUBSCRIPTION = "subscription", _("New subscription")
    CANCELLATION = "cancellation", _("Cancellation")
    API_KEY_CREATED = "api_key_created", _("API key created")
    API_KEY_DELETED = "api_key_deleted", _("API key deleted")
    NEW_DEVICE = "new_device", _("Sign-in from a new device")
    CHARGEBACK = "chargeback", _("Chargeback")


class Notification(models.Model):
    """One entry of a store's notification center, written by the outbox consumer
    (``stores.notifications.consume``) from one event: ``event_id`` is unique, so relaying an
    event twice writes it once. Shown to ``recipient`` alone when set, else to every active
    member (``managers_only``: owners and admins only); ``environment`` is the event's (empty:
    shown in both). Read state is per member (``NotificationRead``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_id = models.UUIDField(unique=True)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices, blank=True)
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    managers_only = models.BooleanField(default=False)
    # The object it links to (a payment, ticket, or the order of a subscription), if any.
    object_id = models.UUIDField(null=True, blank=True)
    # What the line says: amounts in minor units with their currency, names, the event's status.
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["store", "environment", "-created_at", "-id"], name="notification_list_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} in {self.store_id}"


class NotificationRead(models.Model):
    """A member has read a notification (one row per member: others still see it unread)."""

    id = models.BigAutoField(primary_key=True)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="reads")
    merchant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "merchant"], name="notification_read_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id} read {self.notification_id}"


class KnownDevice(models.Model):
    """A browser a merchant has signed in from: the hash of a long-lived random cookie."""

    id = models.BigAutoField(primary_key=True)
    merchant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"device of {self.merchant_id}"
