from django.urls import path

from stores import views

app_name = "dashboard"

store = "dashboard/<uuid:store_id>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("login/magic/<str:token>/", views.magic_link, name="magic-link"),
    path("invite/<str:token>/", views.invite_accept, name="invite-accept"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("environment/", views.set_environment, name="environment"),
    path("switch-store/", views.switch_store, name="switch-store"),
    path(store, views.store_home, name="store"),
    path(store + "settings/", views.store_settings, name="settings"),
    path(store + "settings/details/", views.settings_store, name="settings-details"),
    path(
        store + "settings/notifications/",
        views.settings_notifications,
        name="settings-notifications",
    ),
    path(store + "settings/branding/", views.settings_branding, name="settings-branding"),
    path(
        store + "settings/branding/reset/",
        views.settings_branding_reset,
        name="settings-branding-reset",
    ),
    path(store + "settings/delete/", views.settings_delete, name="settings-delete"),
    path(store + "team/", views.team, name="team"),
    path(store + "team/transfer/", views.team_transfer, name="team-transfer"),
    path(store + "team/leave/", views.team_leave, name="team-leave"),
    path(store + "team/<uuid:merchant_id>/role/", views.team_role, name="team-role"),
    path(store + "team/<uuid:merchant_id>/remove/", views.team_remove, name="team-remove"),
    path(store + "developers/", views.developers, name="developers"),
    path(
        store + "developers/keys/<uuid:key_id>/version/",
        views.api_key_version,
        name="api-key-version",
    ),
    path(
        store + "developers/keys/<uuid:key_id>/delete/", views.api_key_delete, name="api-key-delete"
    ),
    path(store + "developers/webhooks/", views.webhooks, name="webhooks"),
    path(
        store + "developers/webhooks/public-key.pem",
        views.webhook_public_key,
        name="webhook-public-key",
    ),
    path(store + "developers/webhooks/deliveries/", views.webhook_log, name="webhook-log"),
    path(
        store + "developers/webhooks/deliveries/<uuid:delivery_id>/",
        views.webhook_delivery,
        name="webhook-delivery",
    ),
    path(
        store + "developers/webhooks/deliveries/<uuid:delivery_id>/resend/",
        views.webhook_resend,
        name="webhook-resend",
    ),
    path(
        store + "developers/webhooks/<uuid:endpoint_id>/", views.webhook_edit, name="webhook-edit"
    ),
    path(
        store + "developers/webhooks/<uuid:endpoint_id>/enabled/",
        views.webhook_enabled,
        name="webhook-enabled",
    ),
    path(
        store + "developers/webhooks/<uuid:endpoint_id>/remove/",
        views.webhook_remove,
        name="webhook-remove",
    ),
    path(
        store + "developers/webhooks/<uuid:endpoint_id>/test/",
        views.webhook_send_test,
        name="webhook-send-test",
    ),
    path(
        store + "developers/webhooks/<uuid:endpoint_id>/deliveries/",
        views.webhook_deliveries,
        name="webhook-deliveries",
    ),
    path(store + "developers/graphql", views.graphiql, name="graphiql"),
]
