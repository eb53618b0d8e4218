from django.urls import path

from checkout import views

app_name = "checkout"

urlpatterns = [
    path("store/<slug:store_slug>/checkout/<uuid:session_id>", views.session_page, name="page"),
]
