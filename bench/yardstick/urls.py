from django.urls import path

from bench.yardstick.views import SignedWriteView

urlpatterns = [path("bench/yardstick", SignedWriteView.as_view())]
