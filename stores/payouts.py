"""The store's payout setup (docs/dashboard-customers-finance.md), in three steps, each not
started, pending or verified:

1. Business details: the store's seller fields (legal name, address, country, tax id), edited
   through ``stores.services.store_update`` on the settings page. Verified when the legal name,
   the address's first line, city, postcode and country are all given; pending when some are.
2. Contact email: a 6-digit code is emailed to it; only its salted hash is kept. The code
   expires after ``PAYOUT_CODE_TTL`` (10 minutes), allows ``PAYOUT_CODE_ATTEMPTS`` (5) wrong
   tries, and a new one can be sent ``PAYOUT_CODE_COOLDOWN`` (60 seconds) after the last.
   Pending while a code is out; verified once the right code is entered.
3. Payout account: holder, bank country and an IBAN (checked with python-stdnum, its country
   must be the bank's) or a local account number (4 to 17 digits). Only the last 4 characters
   are kept. Setting it emails every owner of the store.

Owners and admins change the setup; members see it (``stores.selectors.access_store``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as NumberError

from pancake.api.actor import Actor
from pancake.api.errors import InvalidInput, RateLimited
from stores import emails
from stores.models import (
    MembershipStatus,
    PayoutSetup,
    Role,
    Store,
    StoreMembership,
    normalize_email,
)
from stores.selectors import access_store

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODE_COOLDOWN = timedelta(seconds=60)

NOT_STARTED = "not_started"
PENDING = "pending"
VERIFIED = "verified"
BUSINESS_FIELDS = (
    "legal_name",
    "address_line1",
    "address_city",
    "address_postcode",
    "address_country",
)


def _ttl() -> timedelta:
    return timedelta(seconds=getattr(settings, "PAYOUT_CODE_TTL", CODE_TTL.total_seconds()))


def _cooldown() -> timedelta:
    return timedelta(
        seconds=getattr(settings, "PAYOUT_CODE_COOLDOWN", CODE_COOLDOWN.total_seconds())
    )


def _attempts() -> int:
    return getattr(settings, "PAYOUT_CODE_ATTEMPTS", CODE_ATTEMPTS)


@dataclass(frozen=True)
class Steps:
    business: str
    email: str
    account: str

    @property
    def complete(self) -> bool:
        return self.business == self.email == self.account == VERIFIED


def setup_of(store: Store) -> PayoutSetup:
    """The store's setup row (an unsaved empty one before the first change)."""
    return PayoutSetup.objects.filter(store=store).first() or PayoutSetup(store=store)


def steps(store: Store, setup: PayoutSetup) -> Steps:
    given = [bool(getattr(store, name)) for name in BUSINESS_FIELDS]
    business = VERIFIED if all(given) else PENDING if any(given) else NOT_STARTED
    if setup.email_verified_at:
        email = VERIFIED
    elif setup.code_hash:
        email = PENDING
    else:
        email = NOT_STARTED
    account = VERIFIED if setup.account_last4 else NOT_STARTED
    return Steps(business, email, account)


def _hash(store_id, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"payout-code:{store_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _locked(actor: Actor, store_id: uuid.UUID) -> PayoutSetup:
    access_store(actor, store_id, min_role=Role.ADMIN)
    store = Store.objects.select_for_update().get(pk=store_id)
    setup, _created = PayoutSetup.objects.get_or_create(store=store)
    return PayoutSetup.objects.select_for_update().select_related("store").get(pk=setup.pk)


def email_code_send(*, actor: Actor, store_id: uuid.UUID, email: str) -> PayoutSetup:
    """Email a new 6-digit code to ``email`` (which becomes the unverified contact email).
    Refused within the cooldown after the last code (429)."""
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            "Invalid email", layer="user", field="email", code="invalid_email"
        ) from None
    now = timezone.now()
    with transaction.atomic():
        setup = _locked(actor, store_id)
        if setup.code_sent_at and now < setup.code_sent_at + _cooldown():
            wait = (setup.code_sent_at + _cooldown() - now).total_seconds()
            raise RateLimited(int(wait) + 1, "Wait before sending another code")
        code = f"{secrets.randbelow(10**6):06d}"
        setup.contact_email = email
        setup.email_verified_at = None
        setup.code_hash = _hash(setup.store_id, code)
        setup.code_expires_at = now + _ttl()
        setup.code_sent_at = now
        setup.code_attempts = 0
        setup.save()
        store_name = setup.store.name
        transaction.on_commit(lambda: _send_code(email, code, store_name))
    return setup


def _send_code(email: str, code: str, store_name: str) -> None:
    minutes = int(_ttl().total_seconds() // 60)
    context = {"code": code, "store_name": store_name, "minutes": minutes}
    subject = _("Your payout email code: %(code)s") % {"code": code}
    emails.send(email, subject, "payout_email_code", context)


def email_code_verify(*, actor: Actor, store_id: uuid.UUID, code: str) -> PayoutSetup:
    """Verify the contact email with the code sent to it: wrong (``wrong_code``), expired or
    none sent (``code_expired``), or too many wrong tries (``too_many_attempts``, then only a
    new code helps)."""
    code = (code or "").strip()
    now = timezone.now()
    with transaction.atomic():
        setup = _locked(actor, store_id)
        if not setup.code_hash or not setup.code_expires_at or now >= setup.code_expires_at:
            raise InvalidInput(
                "The code has expired", layer="user", field="code", code="code_expired"
            )
        if setup.code_attempts >= _attempts():
            raise InvalidInput(
                "Too many wrong codes", layer="user", field="code", code="too_many_attempts"
            )
        if not hmac.compare_digest(setup.code_hash, _hash(setup.store_id, code)):
            setup.code_attempts += 1
            setup.save(update_fields=["code_attempts", "updated_at"])
            error = InvalidInput("Wrong code", layer="user", field="code", code="wrong_code")
        else:
            setup.email_verified_at = now
            setup.code_hash = ""
            setup.code_expires_at = None
            setup.code_attempts = 0
            setup.save()
            return setup
    raise error  # after the commit, so the wrong try counts


def _account_number(number: str, bank_country: str) -> tuple[str, str]:
    """(kind, last 4) of a valid IBAN or local account number."""
    compact = stdnum_iban.compact(number or "")
    if compact[:2].isalpha():
        try:
            stdnum_iban.validate(compact)
        except NumberError:
            raise InvalidInput(
                "Invalid IBAN", layer="user", field="accountNumber", code="invalid_iban"
            ) from None
        if compact[:2] != bank_country:
            raise InvalidInput(
                "The IBAN is not of the bank's country",
                layer="user",
                field="accountNumber",
                code="iban_country",
            )
        return "iban", compact[-4:]
    if not compact.isdigit() or not 4 <= len(compact) <= 17:
        raise InvalidInput(
            "Invalid account number", layer="user", field="accountNumber", code="invalid_account"
        )
    return "account", compact[-4:]


def account_set(
    *, actor: Actor, store_id: uuid.UUID, holder: str, bank_country: str, number: str
) -> PayoutSetup:
    """Set the payout account (only its last 4 characters are kept) and email the owners."""
    holder = " ".join((holder or "").split())
    if not holder or len(holder) > 200:
        raise InvalidInput("Invalid holder", layer="user", field="holder", code="invalid")
    bank_country = (bank_country or "").strip().upper()
    if len(bank_country) != 2 or not bank_country.isalpha():
        raise InvalidInput("Invalid country", layer="user", field="bankCountry", code="invalid")
    kind, last4 = _account_number(number, bank_country)
    with transaction.atomic():
        setup = _locked(actor, store_id)
        changed = bool(setup.account_last4)
        setup.account_holder = holder
        setup.bank_country = bank_country
        setup.account_kind = kind
        setup.account_last4 = last4
        setup.account_set_at = timezone.now()
        setup.save()
        owners = list(
            StoreMembership.objects.filter(
                store_id=store_id, role=Role.OWNER, status=MembershipStatus.ACTIVE
            ).values_list("merchant__email", flat=True)
        )
        context = {
            "store_name": setup.store.name,
            "last4": last4,
            "changed": changed,
            "dashboard_url": settings.BASE_URL
            + reverse("dashboard:finance", args=[store_id])
            + "#payout-account",
        }
        transaction.on_commit(lambda: _notify_owners(owners, context))
    return setup


def _notify_owners(owners: list[str], context: dict) -> None:
    subject = _("The payout account of %(store)s was set") % {"store": context["store_name"]}
    for email in owners:
        emails.send(email, subject, "payout_account_changed", context)
