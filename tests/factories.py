"""factory_boy factories and key helpers shared by the tests."""

import uuid
from datetime import timedelta
from decimal import Decimal

import factory
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from billing.models import Payment, PaymentStatus
from checkout.models import CheckoutSession, Order, OrderKind, OrderStatus, SessionStatus
from checkout.services import DEFAULT_TTL_SECONDS, OFFERED_METHODS, session_tax
from checkout.trials import first_charge, trial_charge
from pancake.api import signatures
from pancake.models import Environment
from products.models import Product, ProductKind, ProductStatus
from products.services import product_create
from stores.models import ApiKey, MembershipStatus, Merchant, Role, Store, StoreMembership

_KEY_CACHE: list = []


def rsa_key(bits: int = 2048):
    """Real RSA keys; generation is slow-ish, so a small pool is reused across tests."""
    if bits != 2048:
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key


def public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    email = factory.Sequence(lambda n: f"merchant{n}@example.com")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.Sequence(lambda n: f"store-{n}-abc123")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreMembership

    store = factory.SubFactory(StoreFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.OWNER
    status = MembershipStatus.ACTIVE


def make_api_key(
    merchant, key, environment="test", api_version="2026-09-23", name="test key"
) -> ApiKey:
    pem, fingerprint = signatures.parse_public_key(public_pem(key))
    return ApiKey.objects.create(
        merchant=merchant,
        name=name,
        environment=environment,
        api_version=api_version,
        public_key_pem=pem,
        fingerprint=fingerprint,
    )


# --- the catalog and the money path ---------------------------------------------------------------
# Rows as the services write them: products through ``product_create``; sessions, orders and
# payments with the values ``session_create``, ``order_create`` and ``payment_start`` derive
# (the frozen price, tax from the tax engine, the first charge of a trial), and the paid states
# ``order_mark_paid`` and a provider's success notification leave. Sessions, orders and payments
# are written directly: ``build_batch`` them and ``bulk_create`` each table for hundreds of rows.
# tests/test_factories.py compares them with rows made through the API.

US_BUYER = {"country": "US", "isBusiness": False, "state": "TX", "postcode": "73301"}
TEST_CARD = {"type": "card", "brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2040}


class ProductFactory(factory.django.DjangoModelFactory):
    """A product and its version 1, made by ``products.services.product_create``: one-time
    "E-Book" at USD 29.00 by default. Traits: ``subscription`` ("Pro Plan", monthly, USD 9.99),
    ``trial`` (a subscription with a 7-day trial), ``published`` (the test version copied to prod
    and active there, as ``product_publish`` does)."""

    class Meta:
        model = Product
        skip_postgeneration_save = True

    class Params:
        subscription = factory.Trait(
            kind=ProductKind.SUBSCRIPTION,
            name="Pro Plan",
            billing_period="monthly",
            prices={"USD": {"amount": 999, "taxCategory": "saas"}},
        )
        trial = factory.Trait(subscription=True, metadata={"trialDays": 7})

    store = factory.SubFactory(StoreFactory)
    kind = ProductKind.ONETIME
    name = "E-Book"
    prices = factory.LazyFunction(lambda: {"USD": {"amount": 2900, "taxCategory": "saas"}})
    description = None
    media = None
    success_url = None
    metadata = None
    billing_period = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return product_create(**kwargs)

    @factory.post_generation
    def published(product, create, extracted, **kwargs):
        if create and extracted:
            product.prod_version = product.test_version
            product.prod_status = ProductStatus.ACTIVE
            product.save(update_fields=["prod_version", "prod_status", "updated_at"])


def _price(session) -> dict:
    return session.version.prices[session.currency]


class CheckoutSessionFactory(factory.django.DjangoModelFactory):
    """An open session for the product's version on sale in ``environment``, at its price in
    ``currency`` (its first price by default), as ``checkout.services.session_create`` freezes
    it. ``with_trial`` is the buyer's choice (subscriptions only)."""

    class Meta:
        model = CheckoutSession

    product = factory.SubFactory(ProductFactory)
    store = factory.SelfAttribute("product.store")
    environment = Environment.TEST
    version = factory.LazyAttribute(lambda o: o.product.version_for(o.environment))
    kind = factory.SelfAttribute("product.kind")
    currency = factory.LazyAttribute(lambda o: next(iter(o.version.prices)))
    amount = factory.LazyAttribute(lambda o: _price(o)["amount"])
    tax_category = factory.LazyAttribute(lambda o: _price(o)["taxCategory"])
    tax_included = factory.LazyAttribute(lambda o: bool(_price(o).get("taxIncluded", False)))
    trial_days = factory.LazyAttribute(
        lambda o: o.version.trial_days if o.kind == ProductKind.SUBSCRIPTION else None
    )
    trial_amount = factory.LazyAttribute(lambda o: _price(o).get("trialAmount"))
    with_trial = None  # as sent: subscriptions may send withTrial
    payment_methods = factory.LazyFunction(lambda: list(OFFERED_METHODS))
    created_via = "api_key"
    expires_at = factory.LazyFunction(
        lambda: timezone.now() + timedelta(seconds=DEFAULT_TTL_SECONDS)
    )


class OrderFactory(factory.django.DjangoModelFactory):
    """A one-time order of a new session, pending, taxed for ``billing_detail`` by the tax engine
    as ``checkout.services.order_create`` taxes it, with its first payment (``PaymentFactory``,
    paid when the order is; ``payment=False`` for none). Traits: ``subscription``, ``trial`` (a
    subscription bought with its trial). ``paid=True``: completed, or active / trialing, with
    the session completed, as ``checkout.services.order_mark_paid`` leaves them."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    class Params:
        subscription = factory.Trait(product__subscription=True)
        trial = factory.Trait(product__trial=True, session__with_trial=True)
        paid = False
        tax = factory.LazyAttribute(lambda o: session_tax(o.session, o.billing_detail))

    product = factory.SubFactory(ProductFactory)
    environment = Environment.TEST
    buyer_email = "buyer@example.com"
    billing_detail = factory.LazyFunction(lambda: dict(US_BUYER))
    completed_at = factory.Maybe("paid", factory.LazyFunction(timezone.now), None)
    session = factory.SubFactory(
        CheckoutSessionFactory,
        product=factory.SelfAttribute("..product"),
        environment=factory.SelfAttribute("..environment"),
        buyer_email=factory.SelfAttribute("..buyer_email"),
        billing_detail=factory.SelfAttribute("..billing_detail"),
        status=factory.Maybe(
            factory.SelfAttribute("..paid"), SessionStatus.COMPLETED, SessionStatus.OPEN
        ),
        completed_at=factory.SelfAttribute("..completed_at"),
    )
    store = factory.SelfAttribute("session.store")
    version = factory.SelfAttribute("session.version")
    kind = factory.SelfAttribute("session.kind")
    status = factory.Maybe(
        "paid",
        factory.LazyAttribute(lambda o: _paid_status(o.kind, o.with_trial)),
        OrderStatus.PENDING,
    )
    currency = factory.SelfAttribute("session.currency")
    subtotal = factory.SelfAttribute("tax.subtotal")
    tax_amount = factory.SelfAttribute("tax.tax_amount")
    total = factory.SelfAttribute("tax.total")
    tax_rate = factory.LazyAttribute(lambda o: Decimal(o.tax.rate))
    tax_name = factory.SelfAttribute("tax.tax_name")
    reverse_charge = factory.SelfAttribute("tax.reverse_charge")
    tax_evidence = factory.SelfAttribute("tax.evidence")
    buyer_identity = factory.SelfAttribute("session.buyer_identity")
    success_url = factory.SelfAttribute("session.success_url")
    metadata = factory.SelfAttribute("session.metadata")
    order_merchant_external_id = factory.SelfAttribute("session.order_merchant_external_id")
    with_trial = factory.LazyAttribute(lambda o: trial_charge(o.session) is not None)

    @factory.post_generation
    def payment(order, create, extracted, **kwargs):
        if create and extracted is not False:
            PaymentFactory(order=order, paid=order.status != OrderStatus.PENDING, **kwargs)


def _paid_status(kind: str, with_trial: bool) -> str:
    """What ``checkout.services.order_mark_paid`` makes of a pending order."""
    if kind == OrderKind.ONETIME:
        return OrderStatus.COMPLETED
    return OrderStatus.TRIALING if with_trial else OrderStatus.ACTIVE


class PaymentFactory(factory.django.DjangoModelFactory):
    """An order's first payment with the built-in test processor, for the amount
    ``billing.services.order_place`` charges (the trial's charge during a trial); its order is
    made for it unless given. Pending by default; ``paid=True``: succeeded with the test card
    (and a new order paid too), as the provider's success notification leaves it; the
    ``declined`` trait: failed with the test card's decline. The test processor's own rows are
    not made: to go through its card page, buy through the API (``tests.helpers.buy``)."""

    class Meta:
        model = Payment

    class Params:
        paid = False
        declined = factory.Trait(
            status=PaymentStatus.FAILED,
            payment_method="card",
            payment_method_details=factory.LazyFunction(lambda: {**TEST_CARD, "last4": "0002"}),
            failure_code="card_declined",
            failure_message="Your card was declined.",
        )
        charge = factory.LazyAttribute(
            lambda o: first_charge(o.order.session, o.order.total, o.order.tax_amount)
        )

    order = factory.SubFactory(OrderFactory, payment=False, paid=factory.SelfAttribute("..paid"))
    store = factory.SelfAttribute("order.store")
    product = factory.SelfAttribute("order.product")
    environment = factory.SelfAttribute("order.environment")
    amount = factory.LazyAttribute(lambda o: o.charge[0])
    tax_amount = factory.LazyAttribute(lambda o: o.charge[1])
    currency = factory.SelfAttribute("order.currency")
    status = factory.Maybe("paid", PaymentStatus.SUCCEEDED, PaymentStatus.PENDING)
    provider = "test"
    provider_payment_id = factory.LazyFunction(lambda: f"tp_{uuid.uuid4()}")
    payment_method = factory.Maybe("paid", "card", "")
    payment_method_details = factory.Maybe(
        "paid", factory.LazyFunction(lambda: dict(TEST_CARD)), factory.LazyFunction(dict)
    )
    billing_detail = factory.SelfAttribute("order.billing_detail")
    order_merchant_external_id = factory.SelfAttribute("order.session.order_merchant_external_id")
    paid_at = factory.Maybe("paid", factory.LazyFunction(timezone.now), None)
