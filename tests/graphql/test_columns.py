"""Every field of a type served from a model declares what it reads (``columns``) or how its
relation is loaded (``relations``): lists load exactly those columns (pancake/graphql/selection.py).
A field left out would load every column of its list; a wrong path would fail here, not in a
request."""

import pytest
from django.db.models import Model

from billing.models import (
    Payment,
    PlanChange,
    Refund,
    RefundTicket,
    RefundTicketVersion,
    WebhookEndpoint,
)
from billing.schema import (
    PaymentType,
    RefundTicketType,
    RefundTicketVersionType,
    RefundType,
    ScheduledPlanChange,
    StoreWebhook,
)
from checkout.models import Order
from checkout.schema import OnetimeOrder, OrderType, SubscriptionOrder
from pancake.graphql import selection
from pancake.graphql.schema import schema
from products.models import Product, ProductGroup, ProductVersion
from products.schema import (
    OnetimeProduct,
    ProductVersionType,
    SubscriptionProduct,
    SubscriptionProductGroup,
)
from stores.models import ApiKey, Merchant, Store, StoreMembership
from stores.schema import ApiKeyType, MerchantType, StoreMerchantType, StoreType

MODELS: dict[type, type[Model]] = {
    OrderType: Order,
    OnetimeOrder: Order,
    SubscriptionOrder: Order,
    PaymentType: Payment,
    OnetimeProduct: Product,
    SubscriptionProduct: Product,
    ProductVersionType: ProductVersion,
    SubscriptionProductGroup: ProductGroup,
    StoreType: Store,
    StoreMerchantType: StoreMembership,
    MerchantType: Merchant,
    ApiKeyType: ApiKey,
    StoreWebhook: WebhookEndpoint,
    ScheduledPlanChange: PlanChange,
    RefundTicketType: RefundTicket,
    RefundTicketVersionType: RefundTicketVersion,
    RefundType: Refund,
}


def _declaring() -> set[type]:
    found = set()
    for gql_type in schema.graphql_schema.type_map.values():
        graphene_type = getattr(gql_type, "graphene_type", None)
        if graphene_type is not None and hasattr(graphene_type, "columns"):
            found.add(graphene_type)
    return found


def test_the_types_served_from_models_are_the_types_that_declare_columns():
    assert _declaring() == set(MODELS)


@pytest.mark.parametrize("gtype", sorted(MODELS, key=lambda t: t._meta.name), ids=str)
def test_every_field_of_the_type_is_declared(gtype):
    fields = set(schema.graphql_schema.get_type(gtype._meta.name).fields)
    declared = set(gtype.columns) | set(getattr(gtype, "relations", {}))
    assert fields - declared == set(), "fields without a declaration"
    # (relations may be shared with a sibling type: OrderFields serves both kinds of order)
    assert set(gtype.columns) - fields == set(), "columns of fields the type does not have"


@pytest.mark.django_db
@pytest.mark.parametrize("gtype", sorted(MODELS, key=lambda t: t._meta.name), ids=str)
def test_every_declared_column_is_a_column_of_the_model(gtype):
    model = MODELS[gtype]
    everything = {name: {} for name in schema.graphql_schema.get_type(gtype._meta.name).fields}
    plan = selection.plan(gtype, selection._frozen(everything), model)
    assert plan.only is not None
    # The ORM resolves every path (a typo is a FieldDoesNotExist here) and compiles the join.
    queryset = model.objects.only(*plan.only).select_related(*plan.joins)
    str(queryset.query)
    list(queryset[:1])
