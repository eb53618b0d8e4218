from django.urls import path

from stores import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("login/magic/<str:token>/", views.magic_link, name="magic-link"),
    path("invite/<str:token>/", views.invite_accept, name="invite-accept"),
]
