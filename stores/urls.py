"""The dashboard's pages of the stores app: sign-in, onboarding, store home, settings, team and
developers. ``pancake/urls.py`` mounts them, with the other apps' ``dashboard_patterns``, in the
one ``dashboard`` namespace."""

from django.urls import path

from stores import views

store = "dashboard/<uuid:store_id>/"

dashboard_patterns = [
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
    path(store + "developers/graphql", views.graphiql, name="graphiql"),
]
