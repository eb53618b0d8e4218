"""A store's team: members and invitations, roles, removal, leaving, ownership transfer, and the
invitation link. Services decide who may do what; their refusals show on the page."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from pancake.api.errors import PancakeError
from stores import forms, selectors, services
from stores.context_processors import STORE_SESSION_KEY
from stores.dashboard import (
    confirm_page,
    dashboard_actor,
    page,
    redirect_to,
    show_error,
    store_context,
    store_page,
)
from stores.models import MembershipStatus, Role


def _team_page(request, store, *, status: int = 200, error: str = "", **bound):
    role = store.caller_role
    members = list(selectors.store_members(store))
    rows = []
    for membership in members:
        is_self = membership.merchant_id == request.user.pk
        target_is_owner = membership.role == Role.OWNER
        rows.append(
            {
                "membership": membership,
                "is_self": is_self,
                "can_change_role": role == Role.OWNER and not target_is_owner,
                "can_remove": not is_self
                and not target_is_owner
                and (role == Role.OWNER or (role == Role.ADMIN and membership.role == Role.MEMBER)),
            }
        )
    candidates = [
        m for m in members if m.role != Role.OWNER and m.status == MembershipStatus.ACTIVE
    ]
    invite_form = bound.get("invite_form") or forms.InviteForm()
    transfer_form = bound.get("transfer_form")
    if transfer_form is None and role == Role.OWNER and candidates:
        transfer_form = forms.TransferOwnershipForm(candidates=candidates)
    context = store_context(
        request,
        store,
        "team",
        rows=rows,
        invite_form=invite_form,
        transfer_form=transfer_form,
        role_choices=forms.RoleForm.base_fields["role"].choices,
        error=error,
    )
    return page(request, "dashboard/team.html", context, status)


@store_page
@require_http_methods(["GET", "POST"])
def team(request, store):
    if request.method == "GET":
        return _team_page(request, store)
    form = forms.InviteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            membership = services.member_add(
                actor=dashboard_actor(request),
                store_id=store.pk,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except PancakeError as exc:
            status = show_error(form, exc)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": membership.merchant.email}
            )
            return redirect_to("dashboard:team", store.pk)
    return _team_page(request, store, status=status, invite_form=form)


@store_page
@require_POST
def team_role(request, store, merchant_id):
    form = forms.RoleForm(request.POST)
    if not form.is_valid():
        return _team_page(request, store, status=400, error=_("Choose admin or member."))
    try:
        membership = services.member_update_role(
            actor=dashboard_actor(request),
            store_id=store.pk,
            merchant_id=merchant_id,
            role=form.cleaned_data["role"],
        )
    except PancakeError as exc:
        return _team_page(request, store, status=exc.status, error=str(exc))
    messages.success(
        request,
        _("%(email)s is now %(role)s.")
        % {"email": membership.merchant.email, "role": membership.get_role_display()},
    )
    return redirect_to("dashboard:team", store.pk)


@store_page
@require_http_methods(["GET", "POST"])
def team_remove(request, store, merchant_id):
    membership = next(
        (m for m in selectors.store_members(store) if m.merchant_id == merchant_id), None
    )
    if membership is None:
        raise Http404("Not a member")
    email = membership.merchant.email
    if request.method == "GET":
        invited = membership.status == MembershipStatus.INVITED
        return confirm_page(
            request,
            store,
            "team",
            title=_("Cancel the invitation?") if invited else _("Remove this member?"),
            message=(
                _("%(email)s will no longer be able to join %(store)s with their invitation.")
                if invited
                else _("%(email)s will lose access to %(store)s at once.")
            )
            % {"email": email, "store": store.name},
            button=_("Cancel invitation") if invited else _("Remove member"),
            cancel_url=reverse("dashboard:team", args=[store.pk]),
        )
    try:
        services.member_remove(
            actor=dashboard_actor(request), store_id=store.pk, merchant_id=merchant_id
        )
    except PancakeError as exc:
        return _team_page(request, store, status=exc.status, error=str(exc))
    messages.success(request, _("%(email)s was removed from the store.") % {"email": email})
    return redirect_to("dashboard:team", store.pk)


@store_page
@require_http_methods(["GET", "POST"])
def team_leave(request, store):
    if request.method == "GET":
        return confirm_page(
            request,
            store,
            "team",
            title=_("Leave this store?"),
            message=_("You will lose access to %(store)s until someone invites you again.")
            % {"store": store.name},
            button=_("Leave store"),
            cancel_url=reverse("dashboard:team", args=[store.pk]),
        )
    try:
        services.member_remove(
            actor=dashboard_actor(request), store_id=store.pk, merchant_id=request.user.pk
        )
    except PancakeError as exc:
        return _team_page(request, store, status=exc.status, error=str(exc))
    request.session.pop(STORE_SESSION_KEY, None)
    messages.success(request, _("You left %(store)s.") % {"store": store.name})
    return redirect("dashboard:home")


@store_page
@require_POST
def team_transfer(request, store):
    candidates = [
        m
        for m in selectors.store_members(store)
        if m.role != Role.OWNER and m.status == MembershipStatus.ACTIVE
    ]
    form = forms.TransferOwnershipForm(request.POST, candidates=candidates)
    status = 400
    if form.is_valid():
        try:
            membership = services.ownership_transfer(
                actor=dashboard_actor(request),
                store_id=store.pk,
                merchant_id=uuid.UUID(form.cleaned_data["merchant"]),
            )
        except PancakeError as exc:
            status = show_error(form, exc)
        else:
            messages.success(
                request,
                _("%(email)s now owns %(store)s. You are an admin.")
                % {"email": membership.merchant.email, "store": store.name},
            )
            return redirect_to("dashboard:team", store.pk)
    return _team_page(request, store, status=status, transfer_form=form)


def invite_accept(request, token):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    membership = selectors.invitation_for_token(token)
    if membership is None:
        return page(request, "dashboard/invite_invalid.html", status=400)
    error, status = "", 200
    if request.method == "POST":
        try:
            membership = services.member_accept(merchant=request.user, token=token)
        except PancakeError as exc:
            error, status = str(exc), exc.status
        else:
            request.session[STORE_SESSION_KEY] = str(membership.store_id)
            messages.success(request, _("Welcome to %(store)s.") % {"store": membership.store.name})
            return redirect("dashboard:store", store_id=membership.store_id)
    context = {
        "membership": membership,
        "token": token,
        "error": error,
        "wrong_account": membership.merchant_id != request.user.pk,
        "already_member": membership.merchant_id == request.user.pk
        and membership.status == MembershipStatus.ACTIVE,
    }
    return page(request, "dashboard/invite.html", context, status)
