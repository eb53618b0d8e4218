"""Dashboard pages of the catalog (namespace ``products``) and, in ``purchase_patterns``, the
public permanent purchase link, which pancake/urls.py mounts last so that every specific route
wins over ``/<store-slug>/<product-slug>``."""

from django.urls import path

from products import views

app_name = "products"

store = "dashboard/<uuid:store_id>/"
product = store + "products/<uuid:product_id>/"
group = store + "groups/<uuid:group_id>/"

urlpatterns = [
    path(store + "products/", views.product_list, name="list"),
    path(store + "products/new/", views.product_new, name="new"),
    path(store + "products/preview/", views.markdown_preview, name="preview"),
    path(product + "edit/", views.product_edit, name="edit"),
    path(product + "status/", views.product_status, name="status"),
    path(product + "publish/", views.product_publish, name="publish"),
    path(store + "groups/", views.group_list, name="groups"),
    path(store + "groups/new/", views.group_new, name="group-new"),
    path(group + "edit/", views.group_edit, name="group-edit"),
    path(group + "delete/", views.group_delete, name="group-delete"),
    path(group + "publish/", views.group_publish, name="group-publish"),
]

purchase_patterns = (
    [
        path("<slug:store_slug>/<slug:product_slug>", views.purchase_link, name="link"),
        path(
            "<slug:store_slug>/<slug:product_slug>/", views.purchase_link_slash, name="link-slash"
        ),
    ],
    "purchase",
)
