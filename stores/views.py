from django.contrib.auth import login as auth_login
from django.http import HttpResponse
from django.shortcuts import redirect

from stores.auth import magic_link_consume


def home(request):
    return HttpResponse("Pancake")


def login(request):
    return HttpResponse("login")


def magic_link(request, token):
    result = magic_link_consume(token)
    if result is None:
        return HttpResponse("expired", status=400)
    auth_login(request, result[0], backend="django.contrib.auth.backends.ModelBackend")
    return redirect("dashboard:home")


def invite_accept(request, token):
    return HttpResponse("invite")
