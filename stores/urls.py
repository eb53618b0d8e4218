"""The dashboard's pages of the stores app: sign-in, onboarding, store home, settings, team and
developers. ``pancake/urls.py`` mounts them, with the other apps' ``dashboard_patterns``, in the
one ``dashboard`` namespace."""

from django.urls import path

from stores.views import developers, home, notifications, security_log, settings, signin, team

store = "dashboard/<uuid:store_id>/"

dashboard_patterns = [
    path("", home.home, name="home"),
    path("login/", signin.login, name="login"),
    path("login/magic/<str:token>/", signin.magic_link, name="magic-link"),
    path("invite/<str:token>/", team.invite_accept, name="invite-accept"),
    path("onboarding/", home.onboarding, name="onboarding"),
    path("environment/", home.set_environment, name="environment"),
    path("switch-store/", home.switch_store, name="switch-store"),
    path(store + "settings/", settings.store_settings, name="settings"),
    path(store + "settings/details/", settings.settings_store, name="settings-details"),
    path(
        store + "settings/notifications/",
        settings.settings_notifications,
        name="settings-notifications",
    ),
    path(store + "settings/branding/", settings.settings_branding, name="settings-branding"),
    path(
        store + "settings/branding/reset/",
        settings.settings_branding_reset,
        name="settings-branding-reset",
    ),
    path(store + "settings/delete/", settings.settings_delete, name="settings-delete"),
    path(
        store + "settings/security-log/",
        security_log.security_log,
        name="settings-security-log",
    ),
    path(store + "team/", team.team, name="team"),
    path(store + "team/transfer/", team.team_transfer, name="team-transfer"),
    path(store + "team/leave/", team.team_leave, name="team-leave"),
    path(store + "team/<uuid:merchant_id>/role/", team.team_role, name="team-role"),
    path(store + "team/<uuid:merchant_id>/remove/", team.team_remove, name="team-remove"),
    path(store + "developers/", developers.developers, name="developers"),
    path(
        store + "developers/keys/<uuid:key_id>/version/",
        developers.api_key_version,
        name="api-key-version",
    ),
    path(
        store + "developers/keys/<uuid:key_id>/delete/",
        developers.api_key_delete,
        name="api-key-delete",
    ),
    path(store + "developers/graphql", developers.graphiql, name="graphiql"),
    path(store + "notifications/", notifications.notification_list, name="notifications"),
    path(
        store + "notifications/count.json",
        notifications.notifications_count,
        name="notifications-count",
    ),
    path(
        store + "notifications/read-all/",
        notifications.notifications_read_all,
        name="notifications-read-all",
    ),
    path(
        store + "notifications/<uuid:notification_id>/read/",
        notifications.notification_read,
        name="notification-read",
    ),
]
