"""GraphQL: orders in both vocabularies (the pages' ``orders``/``order``, the SDK guide's
``onetimeOrders``/``subscriptionOrders`` with price snapshots) and customers derived from
orders."""

from __future__ import annotations

import graphene
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from billing.analytics_schema import CurrencyRevenue
from billing.customers import selectors as customer_selectors
from billing.models import Payment, PaymentStatus, Subscription
from billing.schema import NEXT_CHARGE_COLUMNS, SubscriptionNextCharge, scheduled_plan_changes
from billing.subscriptions import clock
from checkout.models import Order, OrderKind
from checkout.trials import order_trial_charge
from pancake.graphql import filters as f
from pancake.graphql.context import display, timestamp
from pancake.graphql.rows import memoized_list
from pancake.graphql.scope import buyer_orders_q, in_scope, merchant_only
from pancake.graphql.selection import Rel, optimized, prefetched, selection_tree
from pancake.graphql.types import JSON, BillingDetail, id_field, ts_field
from pancake.models import Environment


def _payments(ctx):
    return Payment.objects.order_by("created_at", "id")


class OrderAmounts(graphene.ObjectType):
    """The order's amounts in minor units (integers: ``2900`` is $29.00)."""

    currency = graphene.String(required=True, description="ISO 4217 code.")
    subtotal = graphene.Int(required=True, description="Before tax.")
    tax_amount = graphene.Int(required=True, description="Tax charged.")
    total = graphene.Int(required=True, description="What the buyer pays.")
    amount = graphene.Int(required=True, description="Same as total.")
    tax_rate = graphene.Float(required=True, description="Tax rate as a fraction (0.19).")


class PhaseAmounts(graphene.ObjectType):
    """One phase of a price, as display strings (``"29.00"``)."""

    subtotal = graphene.String(required=True, description="Before tax.")
    tax_amount = graphene.String(required=True, description="Tax.")
    total = graphene.String(required=True, description="Charged.")
    tax_category = graphene.String(required=True, description="Tax category.")


class OnetimePriceSnapshot(graphene.ObjectType):
    """The price the buyer was charged, frozen at purchase; display strings."""

    currency = graphene.String(required=True, description="ISO 4217 code.")
    subtotal = graphene.String(required=True, description="Before tax.")
    tax_amount = graphene.String(required=True, description="Tax.")
    total = graphene.String(required=True, description="Charged.")
    tax_category = graphene.String(required=True, description="Tax category.")
    tax_included = graphene.Boolean(required=True, description="The list price included tax.")


class SubscriptionPriceSnapshot(graphene.ObjectType):
    """The subscription's frozen price: the regular phase and, with a trial, the special one."""

    currency = graphene.String(required=True, description="ISO 4217 code.")
    regular_phase = graphene.Field(PhaseAmounts, required=True, description="Every period.")
    special_phase = graphene.Field(PhaseAmounts, description="The trial, if the order has one.")
    special_phase_days = graphene.Int(description="Length of the trial in days.")


def _phase(minor_subtotal, minor_tax, minor_total, currency, category) -> PhaseAmounts:
    return PhaseAmounts(
        subtotal=display(minor_subtotal, currency),
        tax_amount=display(minor_tax, currency),
        total=display(minor_total, currency),
        tax_category=category,
    )


class OrderFields(graphene.ObjectType):
    class Meta:
        abstract = True

    # What each field reads (pancake/graphql/selection.py); relations below.
    columns = {
        "id": ("id",),
        "storeId": ("store_id",),
        "productId": ("product_id",),
        "productVersionId": ("version_id",),
        "productType": ("kind",),
        "status": ("status",),
        "currency": ("currency",),
        "amount": ("total",),
        "subtotal": ("subtotal",),
        "taxAmount": ("tax_amount",),
        "amountDetails": ("currency", "subtotal", "tax_amount", "total", "tax_rate"),
        "buyerEmail": ("buyer_email",),
        "billingDetail": ("billing_detail",),
        "billingPeriod": ("version__billing_period",),
        "orderMerchantExternalId": ("order_merchant_external_id",),
        "metadata": ("metadata",),
        "testMode": ("environment",),
        "completedAt": ("completed_at",),
        "canceledAt": ("canceled_at",),
        "createdAt": ("created_at",),
        "updatedAt": ("updated_at",),
    }
    relations = {
        "store": Rel("store", "stores.schema.StoreType"),
        # An order's product is most orders' product: read once, not joined to every order.
        "onetimeProduct": Rel("product", "products.schema.OnetimeProduct", prefetch=True),
        "subscriptionProduct": Rel("product", "products.schema.SubscriptionProduct", prefetch=True),
        "productVersion": Rel("version", "products.schema.ProductVersionType"),
        "payments": Rel(
            "payments",
            "billing.schema.PaymentType",
            many=True,
            queryset=_payments,
            to_attr="gql_payments",
        ),
    }

    id = id_field("pk", "ORD", "Order id.", required=True)
    store_id = id_field("store_id", "STO", "The store.", required=True)
    product_id = id_field("product_id", "PROD", "The product bought.", required=True)
    product_version_id = id_field("version_id", None, "The product version sold (UUID).")
    product_type = graphene.String(required=True, description="onetime or subscription.")
    status = graphene.String(required=True, description="pending, completed, canceled, active…")
    currency = graphene.String(required=True, description="ISO 4217 code.")
    amount = graphene.Int(required=True, description="Total in minor units (2900 = $29.00).")
    subtotal = graphene.Int(required=True, description="Before tax, minor units.")
    tax_amount = graphene.Int(required=True, description="Tax, minor units.")
    amount_details = graphene.Field(
        OrderAmounts, required=True, description="Amounts in minor units."
    )
    buyer_email = graphene.String(required=True, description="The buyer's email.")
    billing_detail = graphene.Field(BillingDetail, description="Tax address and business data.")
    billing_period = graphene.String(description="Subscriptions: the billing period.")
    order_merchant_external_id = graphene.String(description="The merchant's reference.")
    metadata = graphene.Field(JSON, description="Metadata from the checkout session.")
    test_mode = graphene.Boolean(required=True, description="Made in the test environment.")
    store = graphene.Field("stores.schema.StoreType", description="The store.")
    product_version = graphene.Field(
        "products.schema.ProductVersionType", description="The product version sold."
    )
    payments = graphene.List(
        graphene.NonNull("billing.schema.PaymentType"),
        description="The order's payments, oldest first.",
    )
    completed_at = ts_field("completed_at", "When the order was paid.")
    canceled_at = ts_field("canceled_at", "When the order was canceled.")
    created_at = ts_field("created_at", "When the order was made.")
    updated_at = ts_field("updated_at", "When the order last changed.")

    def resolve_product_type(order, info):
        return order.kind

    def resolve_amount(order, info):
        return order.total

    def resolve_amount_details(order, info):
        return OrderAmounts(
            currency=order.currency,
            subtotal=order.subtotal,
            tax_amount=order.tax_amount,
            total=order.total,
            amount=order.total,
            tax_rate=float(order.tax_rate),
        )

    def resolve_billing_detail(order, info):
        return BillingDetail.from_json(order.billing_detail)

    def resolve_billing_period(order, info):
        return order.version.billing_period

    def resolve_test_mode(order, info):
        return order.environment == Environment.TEST

    def resolve_product_version(order, info):
        return order.version

    def resolve_payments(order, info):
        return prefetched(
            order, "gql_payments", lambda: _payments(info.context).filter(order=order)
        )


class OrderType(OrderFields):
    """An order of either kind (the documentation pages' ``orders``)."""

    class Meta:
        name = "Order"

    columns = {**OrderFields.columns, "onetimeProduct": ("kind",), "subscriptionProduct": ("kind",)}

    onetime_product = graphene.Field(
        "products.schema.OnetimeProduct", description="One-time orders."
    )
    subscription_product = graphene.Field(
        "products.schema.SubscriptionProduct", description="Subscription orders."
    )

    def resolve_onetime_product(order, info):
        return order.product if order.kind == OrderKind.ONETIME else None

    def resolve_subscription_product(order, info):
        return order.product if order.kind == OrderKind.SUBSCRIPTION else None


class OnetimeOrder(OrderFields):
    """A one-time purchase (the SDK guide's ``onetimeOrders``)."""

    columns = {
        **OrderFields.columns,
        "priceSnapshot": (
            "currency",
            "subtotal",
            "tax_amount",
            "total",
            "session__tax_category",
            "session__tax_included",
        ),
    }

    onetime_product = graphene.Field(
        "products.schema.OnetimeProduct", description="The product bought."
    )
    price_snapshot = graphene.Field(
        OnetimePriceSnapshot, required=True, description="The price charged; display strings."
    )

    def resolve_onetime_product(order, info):
        return order.product

    def resolve_price_snapshot(order, info):
        return OnetimePriceSnapshot(
            currency=order.currency,
            subtotal=display(order.subtotal, order.currency),
            tax_amount=display(order.tax_amount, order.currency),
            total=display(order.total, order.currency),
            tax_category=order.session.tax_category,
            tax_included=order.session.tax_included,
        )


def _subscription(order) -> Subscription | None:
    """The order's subscription, joined to it; None before the first payment."""
    try:
        return order.subscription
    except Subscription.DoesNotExist:
        return None


def _sub(*columns: str) -> tuple[str, ...]:
    return tuple(f"subscription__{column}" for column in columns)


class SubscriptionOrder(OrderFields):
    """A subscription (the SDK guide's ``subscriptionOrders``). Its status is the
    subscription's; the period, trial, next charge and cancellation fields are null until the
    first payment starts it. Its times are on the subscription's clock, which in test mode a
    test clock may have moved ahead of real time (``testClockTime``)."""

    columns = {
        **OrderFields.columns,
        "priceSnapshot": (
            "currency",
            "subtotal",
            "tax_amount",
            "total",
            "with_trial",
            "session__tax_category",
            "session__kind",
            "session__with_trial",
            "session__trial_amount",
            "session__trial_days",
        ),
        "billingPeriod": ("version__billing_period", *_sub("billing_period")),
        "currentPeriodStart": _sub("current_period_start"),
        "currentPeriodEnd": _sub("current_period_end"),
        "periodNumber": _sub("period_number"),
        "trialEndsAt": _sub("trial_end_at"),
        "cancelAt": _sub("cancel_at"),
        "nextCharge": _sub(*NEXT_CHARGE_COLUMNS),
        "scheduledPlanChange": _sub("id"),
        "testClockTime": ("environment", *_sub("environment", "clock_offset")),
    }
    relations = {
        **OrderFields.relations,
        "scheduledPlanChange": Rel(
            "subscription__plan_changes",
            "billing.schema.ScheduledPlanChange",
            many=True,
            queryset=scheduled_plan_changes,
            to_attr="gql_scheduled_changes",
        ),
    }

    status = graphene.String(
        required=True,
        description="pending (awaiting its first payment), trialing, active, past_due, "
        "canceling (canceled, active until the period ends), canceled, expired (never paid) "
        "or paused.",
    )
    billing_period = graphene.String(description="weekly, monthly, quarterly or yearly.")
    subscription_product = graphene.Field(
        "products.schema.SubscriptionProduct", description="The plan subscribed to."
    )
    price_snapshot = graphene.Field(
        SubscriptionPriceSnapshot, required=True, description="The frozen price; display strings."
    )
    current_period_start = graphene.String(description="Start of the current period.")
    current_period_end = graphene.String(
        description="End of the current period (while trialing: the trial's end)."
    )
    period_number = graphene.Int(
        description="The current period's number: 1 is the first charged period, 0 the trial."
    )
    trial_ends_at = graphene.String(description="When the trial ends (with a trial).")
    cancel_at = graphene.String(
        description="When a canceling subscription ends: its period end (canceled while past "
        "due: the end of its retries)."
    )
    next_charge = graphene.Field(
        "billing.schema.SubscriptionNextCharge",
        description="The next charge it will try by itself; null when none is due (canceling, "
        "paused, ended, not started).",
    )
    scheduled_plan_change = graphene.Field(
        "billing.schema.ScheduledPlanChange",
        description="A plan change waiting for the end of the period, if any.",
    )
    test_clock_time = graphene.String(
        description="Test mode: the subscription's clock (real time until a test clock "
        "advanced it). Null in prod."
    )

    def resolve_subscription_product(order, info):
        return order.product

    def resolve_price_snapshot(order, info):
        category = order.session.tax_category
        trial = order_trial_charge(order)
        return SubscriptionPriceSnapshot(
            currency=order.currency,
            regular_phase=_phase(
                order.subtotal, order.tax_amount, order.total, order.currency, category
            ),
            special_phase=(
                _phase(trial, 0, trial, order.currency, category) if trial is not None else None
            ),
            special_phase_days=order.session.trial_days if trial is not None else None,
        )

    def resolve_billing_period(order, info):
        subscription = _subscription(order)
        return subscription.billing_period if subscription else order.version.billing_period

    def resolve_current_period_start(order, info):
        subscription = _subscription(order)
        return timestamp(subscription.current_period_start) if subscription else None

    def resolve_current_period_end(order, info):
        subscription = _subscription(order)
        return timestamp(subscription.current_period_end) if subscription else None

    def resolve_period_number(order, info):
        subscription = _subscription(order)
        return subscription.period_number if subscription else None

    def resolve_trial_ends_at(order, info):
        subscription = _subscription(order)
        return timestamp(subscription.trial_end_at) if subscription else None

    def resolve_cancel_at(order, info):
        subscription = _subscription(order)
        return timestamp(subscription.cancel_at) if subscription else None

    def resolve_next_charge(order, info):
        subscription = _subscription(order)
        return SubscriptionNextCharge.of(subscription) if subscription else None

    def resolve_scheduled_plan_change(order, info):
        subscription = _subscription(order)
        if subscription is None:
            return None
        changes = prefetched(
            subscription,
            "gql_scheduled_changes",
            lambda: scheduled_plan_changes(info.context).filter(subscription=subscription),
        )
        return changes[0] if changes else None

    def resolve_test_clock_time(order, info):
        if order.environment != Environment.TEST:
            return None
        subscription = _subscription(order)
        # Before its first payment a subscription has no clock of its own: real time.
        return timestamp(clock.clock_time(subscription) if subscription else timezone.now())


# --- customers ------------------------------------------------------------------------------


class CurrencyMrr(graphene.ObjectType):
    """Monthly recurring revenue in one currency, minor units."""

    currency = graphene.String(required=True, description="ISO 4217 code.")
    amount = graphene.Int(required=True, description="Minor units.")


class Customer(graphene.ObjectType):
    """A buyer of one store and environment, derived from their orders (by buyer email). Its id
    is the id of their first order there."""

    id = graphene.ID(required=True, description="Customer id (UUID).")
    store_id = graphene.ID(required=True, description="The store.")
    email = graphene.String(required=True, description="The buyer's email.")
    name = graphene.String(description="Business name from their latest order, if any.")
    country = graphene.String(description="Country of their latest order.")
    currency = graphene.String(description="Currency of their latest order.")
    total_revenue = graphene.Int(
        required=True,
        description="Succeeded payments in `currency`, minor units (other currencies are in "
        "`revenueByCurrency`; sums never mix currencies).",
    )
    revenue_by_currency = graphene.List(
        graphene.NonNull(CurrencyRevenue),
        required=True,
        description="Revenue per currency (net of refunds) and the succeeded payments counted.",
    )
    mrr = graphene.Int(
        required=True,
        description="Monthly recurring revenue in `currency`, minor units: the pre-tax price of "
        "each active, past-due or canceling subscription per month (weekly × 4.33, quarterly "
        "÷ 3, yearly ÷ 12; half up); 0 without one (other currencies are in `mrrByCurrency`).",
    )
    mrr_by_currency = graphene.List(
        graphene.NonNull(CurrencyMrr),
        required=True,
        description="Monthly recurring revenue per currency (only currencies with some).",
    )
    order_count = graphene.Int(required=True, description="Orders made.")
    subscription_count = graphene.Int(required=True, description="Subscription orders.")
    payment_count = graphene.Int(required=True, description="Succeeded payments.")
    created_at = graphene.String(description="Their first order.")
    updated_at = graphene.String(description="Their latest order.")


CUSTOMER_COLUMNS = {
    "storeId": f.Column("store_id", f.ID, "STO"),
    "email": f.Column("buyer_email"),
    "createdAt": f.Column("first_at", f.DATETIME),
    "updatedAt": f.Column("last_at", f.DATETIME),
}
CustomerFilter = f.filter_input("CustomerFilter", CUSTOMER_COLUMNS, "Filters for customers.")


def _customer_groups(ctx, store_id=None):
    if not merchant_only(ctx):
        return Order.objects.none().values("store_id", "buyer_email")
    orders = in_scope(Order.objects.all(), ctx)
    if store_id is not None:
        orders = orders.filter(store_id=f.parse_arg_id(store_id, "STO", "storeId"))
    same = in_scope(Order.objects.all(), ctx).filter(
        store_id=OuterRef("store_id"), buyer_email=OuterRef("buyer_email")
    )
    latest = same.order_by("-created_at", "-id")
    return (
        orders.values("store_id", "buyer_email")
        .annotate(
            first_at=Min("created_at"),
            last_at=Max("created_at"),
            order_count=Count("id"),
            subscription_count=Count("id", filter=Q(kind=OrderKind.SUBSCRIPTION)),
            first_id=Subquery(same.order_by("created_at", "id").values("pk")[:1]),
            country=Subquery(
                latest.annotate(c=KeyTextTransform("country", "billing_detail")).values("c")[:1]
            ),
            business=Subquery(
                latest.annotate(b=KeyTextTransform("businessName", "billing_detail")).values("b")[
                    :1
                ]
            ),
            last_currency=Subquery(latest.values("currency")[:1]),
        )
        .order_by("first_at", "store_id", "buyer_email")
    )


# A payment that went through, whether or not some of it was refunded since.
PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def _mrr(ctx, keys: Q) -> dict:
    """``{(store id, email): {currency: MRR}}`` of the customers ``keys`` selects (one
    statement: their live subscriptions)."""
    subs = (
        in_scope(Subscription.objects.all(), ctx)
        .filter(keys, status__in=customer_selectors.MRR_STATUSES)
        .values_list(
            "store_id",
            "order__buyer_email",
            "status",
            "billing_period",
            "currency",
            "total",
            "tax_amount",
        )
    )
    return customer_selectors.mrr_per_currency(
        ((store_id, email), *price) for store_id, email, *price in subs
    )


def _customers(ctx, rows, *, with_mrr: bool = True) -> list[Customer]:
    """Rows of ``_customer_groups`` → customers, with revenue from one more statement (and MRR
    from another, when ``with_mrr``: the selection asks for it)."""
    rows = list(rows)
    if not rows:
        return []
    revenue: dict = {}
    keys = Q()
    for row in rows:
        keys |= Q(store_id=row["store_id"], order__buyer_email=row["buyer_email"])
    sums = (
        in_scope(Payment.objects.all(), ctx)
        .filter(keys, status__in=PAID)
        .values("store_id", "order__buyer_email", "currency")
        # Net of refunds: a refunded payment was still a payment.
        .annotate(total=Sum(F("amount") - F("refunded_amount")), n=Count("id"))
        .order_by("currency")
    )
    for s in sums:
        revenue.setdefault((s["store_id"], s["order__buyer_email"]), []).append(s)
    mrr = _mrr(ctx, keys) if with_mrr else {}
    out = []
    for row in rows:
        mine = revenue.get((row["store_id"], row["buyer_email"]), [])
        recurring = mrr.get((row["store_id"], row["buyer_email"]), {})
        currency = row["last_currency"]
        out.append(
            Customer(
                id=str(row["first_id"]),
                store_id=ctx.id(row["store_id"], "STO"),
                email=row["buyer_email"],
                name=row["business"] or None,
                country=row["country"],
                currency=currency,
                total_revenue=sum(s["total"] for s in mine if s["currency"] == currency),
                revenue_by_currency=[
                    CurrencyRevenue(
                        currency=s["currency"], total_amount=s["total"], payment_count=s["n"]
                    )
                    for s in mine
                ],
                mrr=recurring.get(currency, 0),
                mrr_by_currency=[
                    CurrencyMrr(currency=c, amount=amount) for c, amount in recurring.items()
                ],
                order_count=row["order_count"],
                subscription_count=row["subscription_count"],
                payment_count=sum(s["n"] for s in mine),
                created_at=timestamp(row["first_at"]),
                updated_at=timestamp(row["last_at"]),
            )
        )
    return out


# --- roots ----------------------------------------------------------------------------------

ORDER_COLUMNS = {
    "id": f.Column("pk", f.ID, "ORD"),
    "storeId": f.Column("store_id", f.ID, "STO"),
    "productId": f.Column("product_id", f.ID, "PROD"),
    "productType": f.Column("kind"),
    "status": f.Column("status"),
    "currency": f.Column("currency"),
    "buyerEmail": f.Column("buyer_email"),
    "orderMerchantExternalId": f.Column("order_merchant_external_id"),
    "amount": f.Column("total", f.INT, description="Total, minor units."),
    "createdAt": f.Column("created_at", f.DATETIME),
    "updatedAt": f.Column("updated_at", f.DATETIME),
}
OrderFilter = f.filter_input("OrderFilter", ORDER_COLUMNS, "Filters for orders.")
OnetimeOrderFilter = f.filter_input(
    "OnetimeOrderFilter", ORDER_COLUMNS, "Filters for one-time orders."
)
SUBSCRIPTION_ORDER_COLUMNS = {
    **ORDER_COLUMNS,
    "canceledAt": f.Column("canceled_at", f.DATETIME),
    "currentPeriodStart": f.Column("subscription__current_period_start", f.DATETIME),
    "currentPeriodEnd": f.Column("subscription__current_period_end", f.DATETIME),
    "trialEndsAt": f.Column("subscription__trial_end_at", f.DATETIME),
    "periodNumber": f.Column("subscription__period_number", f.INT),
}
SubscriptionOrderFilter = f.filter_input(
    "SubscriptionOrderFilter", SUBSCRIPTION_ORDER_COLUMNS, "Filters for subscription orders."
)


def orders_in_scope(ctx, kind: str | None = None, store_id=None):
    """The orders the caller may read: their stores' (a buyer: their own) in the environment."""
    qs = in_scope(Order.objects.all(), ctx).filter(buyer_orders_q(ctx))
    if kind is not None:
        qs = qs.filter(kind=kind)
    if store_id is not None:
        qs = qs.filter(store_id=f.parse_arg_id(store_id, "STO", "storeId"))
    return qs.order_by("-created_at", "-id")


def _order_roots(kind: str | None, gtype, filter_type, columns: dict, label: str) -> dict:
    def resolve_list(root, info, filter=None, limit=None, offset=None, store_id=None):
        ctx = info.context

        def build():
            qs = f.apply_filter(orders_in_scope(ctx, kind, store_id), filter, columns, ctx)
            return f.paginate(optimized(qs, gtype, info), limit, offset)

        parts = ("orders", kind, f.frozen(filter), limit, offset, store_id)
        return memoized_list(info, parts, build)

    def resolve_count(root, info, filter=None, store_id=None):
        ctx = info.context
        qs = orders_in_scope(ctx, kind, store_id)
        return f.apply_filter(qs, filter, columns, ctx).count()

    def resolve_one(root, info, id):
        pk = f.parse_arg_id(id, "ORD", "id")
        return optimized(orders_in_scope(info.context, kind).filter(pk=pk), gtype, info).first()

    return {
        "list": graphene.List(
            graphene.NonNull(gtype),
            description=f"{label} of the request's environment, newest first.",
            resolver=resolve_list,
            **f.list_args(filter_type, store_id=f.store_id_arg()),
        ),
        "count": graphene.Int(
            required=True,
            description=f"How many {label.lower()} the list would return.",
            resolver=resolve_count,
            **f.count_args(filter_type, store_id=f.store_id_arg()),
        ),
        "one": graphene.Field(
            gtype,
            id=graphene.Argument(graphene.ID, required=True, description="Order id."),
            description="One order; null if the caller may not see it.",
            resolver=resolve_one,
        ),
    }


_ALL = _order_roots(None, OrderType, OrderFilter, ORDER_COLUMNS, "Orders")
_ONETIME = _order_roots(
    OrderKind.ONETIME, OnetimeOrder, OnetimeOrderFilter, ORDER_COLUMNS, "One-time orders"
)
_SUBSCRIPTION = _order_roots(
    OrderKind.SUBSCRIPTION,
    SubscriptionOrder,
    SubscriptionOrderFilter,
    SUBSCRIPTION_ORDER_COLUMNS,
    "Subscription orders",
)
# The documentation pages' name for the same list: a subscription is known by its order.
_SUBSCRIPTIONS = _order_roots(
    OrderKind.SUBSCRIPTION,
    SubscriptionOrder,
    SubscriptionOrderFilter,
    SUBSCRIPTION_ORDER_COLUMNS,
    "Subscriptions",
)


def _asks_mrr(info) -> bool:
    return not {"mrr", "mrrByCurrency"}.isdisjoint(selection_tree(info))


class CheckoutQueries(graphene.ObjectType):
    orders = _ALL["list"]
    orders_count = _ALL["count"]
    order = _ALL["one"]
    onetime_orders = _ONETIME["list"]
    onetime_orders_count = _ONETIME["count"]
    onetime_order = _ONETIME["one"]
    subscription_orders = _SUBSCRIPTION["list"]
    subscription_orders_count = _SUBSCRIPTION["count"]
    subscription_order = _SUBSCRIPTION["one"]
    subscriptions = _SUBSCRIPTIONS["list"]
    subscriptions_count = _SUBSCRIPTIONS["count"]
    customers = graphene.List(
        graphene.NonNull(Customer),
        description="Buyers of the caller's stores in the request's environment, by email.",
        **f.list_args(CustomerFilter, store_id=f.store_id_arg()),
    )
    customers_count = graphene.Int(
        required=True,
        description="How many customers the list would return.",
        **f.count_args(CustomerFilter, store_id=f.store_id_arg()),
    )
    customer = graphene.Field(
        Customer,
        id=graphene.Argument(graphene.ID, required=True, description="Customer id (UUID)."),
        description="One customer; null if not the caller's.",
    )

    def resolve_customers(root, info, filter=None, limit=None, offset=None, store_id=None):
        ctx = info.context
        rows = f.apply_filter(_customer_groups(ctx, store_id), filter, CUSTOMER_COLUMNS, ctx)
        return _customers(ctx, f.paginate(rows, limit, offset), with_mrr=_asks_mrr(info))

    def resolve_customers_count(root, info, filter=None, store_id=None):
        ctx = info.context
        rows = f.apply_filter(_customer_groups(ctx, store_id), filter, CUSTOMER_COLUMNS, ctx)
        return rows.count()

    def resolve_customer(root, info, id):
        ctx = info.context
        pk = f.parse_arg_id(id, None, "id")
        first = orders_in_scope(ctx).filter(pk=pk).values("store_id", "buyer_email").first()
        if first is None or not merchant_only(ctx):
            return None
        rows = _customer_groups(ctx).filter(
            store_id=first["store_id"], buyer_email=first["buyer_email"]
        )
        customers = [c for c in _customers(ctx, rows, with_mrr=_asks_mrr(info)) if c.id == str(pk)]
        return customers[0] if customers else None
