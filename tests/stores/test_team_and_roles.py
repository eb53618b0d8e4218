"""Roles inside a store and isolation between merchants, through every store action."""

import pytest
from django.core import mail

from stores.models import MembershipStatus, Merchant, Store, StoreMembership
from stores.selectors import active_stores_for
from tests.api.helpers import TIMESTAMP_RE, assert_error, assert_ok, short


def _mer(client) -> str:
    return short("MER", client.merchant.pk)


def _role(team, client) -> str | None:
    row = StoreMembership.objects.filter(store=team.store, merchant=client.merchant).first()
    return row.role if row else None


def _update(team, client, **fields):
    return client.post("store/update-store", {"id": team.store_id, **fields})


def _add(team, client, email="new@example.com", role="member"):
    return client.post(
        "store-merchant/add-merchant", {"storeId": team.store_id, "email": email, "role": role}
    )


def _remove(team, client, target):
    return client.post(
        "store-merchant/remove-merchant", {"storeId": team.store_id, "merchantId": _mer(target)}
    )


def _set_role(team, client, target, role):
    return client.post(
        "store-merchant/update-role",
        {"storeId": team.store_id, "merchantId": _mer(target), "role": role},
    )


def _delete(team, client):
    return client.post("store/delete-store", {"id": team.store_id})


# --- owner ------------------------------------------------------------------------------------


def test_owner_can_update_the_store(team):
    store = assert_ok(_update(team, team.owner, name="Renamed"))["data"]["store"]
    assert store["name"] == "Renamed"


def test_owner_can_add_admins_and_members(team):
    assert_ok(_add(team, team.owner, "a@example.com", "admin"))
    assert_ok(_add(team, team.owner, "m@example.com", "member"))
    roles = dict(
        StoreMembership.objects.filter(store=team.store).values_list("merchant__email", "role")
    )
    assert roles["a@example.com"] == "admin"
    assert roles["m@example.com"] == "member"


def test_owner_can_change_any_non_owner_role(team):
    assert_ok(_set_role(team, team.owner, team.admin, "member"))
    assert_ok(_set_role(team, team.owner, team.member, "admin"))
    assert _role(team, team.admin) == "member"
    assert _role(team, team.member) == "admin"


def test_owner_can_remove_admins_and_members(team):
    assert_ok(_remove(team, team.owner, team.admin))
    assert_ok(_remove(team, team.owner, team.member))
    assert _role(team, team.admin) is None
    assert _role(team, team.member) is None


def test_owner_can_delete_the_store(team):
    data = assert_ok(_delete(team, team.owner))["data"]
    assert data["store"]["deletedAt"] is not None


# --- admin ------------------------------------------------------------------------------------


def test_admin_can_update_the_store(team):
    assert_ok(_update(team, team.admin, name="By admin", supportEmail="help@example.com"))
    team.store.refresh_from_db()
    assert team.store.name == "By admin"


def test_admin_can_add_and_remove_members(team):
    assert_ok(_add(team, team.admin, "m2@example.com", "member"))
    assert_ok(_remove(team, team.admin, team.member))
    assert _role(team, team.member) is None


def test_admin_cannot_delete_the_store(team):
    assert_error(_delete(team, team.admin), 403, "Only store owner can delete store", layer="store")
    team.store.refresh_from_db()
    assert team.store.deleted_at is None


def test_admin_cannot_remove_another_admin(team):
    assert_error(_remove(team, team.admin, team.admin2), 403)
    assert _role(team, team.admin2) == "admin"


def test_admin_cannot_change_another_admins_role(team):
    assert_error(_set_role(team, team.admin, team.admin2, "member"), 403)
    assert _role(team, team.admin2) == "admin"


def test_admin_cannot_promote_a_member_to_admin(team):
    assert_error(_set_role(team, team.admin, team.member, "admin"), 403)
    assert _role(team, team.member) == "member"


def test_admin_cannot_grant_admin_by_inviting(team):
    """Otherwise the rule above is one remove + add away."""
    assert_error(_add(team, team.admin, "friend@example.com", "admin"), 403)
    assert_ok(_remove(team, team.admin, team.member))
    assert_error(_add(team, team.admin, team.member.merchant.email, "admin"), 403)
    assert (
        not StoreMembership.objects.filter(store=team.store, role="admin")
        .exclude(merchant__in=[team.admin.merchant, team.admin2.merchant])
        .exists()
    )


def test_admin_cannot_change_or_remove_the_owner(team):
    assert_error(_set_role(team, team.admin, team.owner, "member"), 403)
    assert_error(_remove(team, team.admin, team.owner), 403)
    assert _role(team, team.owner) == "owner"


def test_admin_may_step_down_to_member(team):
    assert_ok(_set_role(team, team.admin, team.admin, "member"))
    assert _role(team, team.admin) == "member"


# --- member -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "write",
    [
        lambda t: _update(t, t.member, name="By member"),
        lambda t: _delete(t, t.member),
        lambda t: _add(t, t.member, "x@example.com", "member"),
        lambda t: _remove(t, t.member, t.admin),
        lambda t: _set_role(t, t.member, t.admin, "member"),
        lambda t: _set_role(t, t.member, t.member, "admin"),
    ],
    ids=["update", "delete", "add", "remove", "update-role", "self-promote"],
)
def test_member_gets_403_on_writes(team, write):
    assert_error(write(team), 403)
    team.store.refresh_from_db()
    assert team.store.name == "My Store"
    assert team.store.deleted_at is None
    assert _role(team, team.member) == "member"
    assert _role(team, team.admin) == "admin"
    assert StoreMembership.objects.filter(store=team.store).count() == 4


def test_member_may_leave_the_store(team):
    assert_ok(_remove(team, team.member, team.member))
    assert _role(team, team.member) is None


# --- merchants outside the store -----------------------------------------------------------------


OUTSIDER_CALLS = {
    "update-store": lambda t, c: _update(t, c, name="Hijacked"),
    "delete-store": lambda t, c: _delete(t, c),
    "add-merchant": lambda t, c: _add(t, c, "spy@example.com", "member"),
    "remove-merchant": lambda t, c: _remove(t, c, t.member),
    "update-role": lambda t, c: _set_role(t, c, t.member, "admin"),
    "issue-session-token": lambda t, c: c.post(
        "auth/issue-session-token", {"storeId": t.store_id, "buyerIdentity": "b@example.com"}
    ),
}


@pytest.mark.parametrize("action", OUTSIDER_CALLS)
def test_merchant_outside_the_store_gets_404_store_not_found(team, action):
    response = OUTSIDER_CALLS[action](team, team.outsider)
    assert_error(response, 404, "Store not found", layer="store")
    team.store.refresh_from_db()
    assert team.store.name == "My Store"
    assert team.store.deleted_at is None
    assert StoreMembership.objects.filter(store=team.store).count() == 4
    assert not Merchant.objects.filter(email="spy@example.com").exists()


def test_outsider_answer_is_the_same_as_for_a_store_that_does_not_exist(team):
    import uuid

    missing = team.outsider.post("store/update-store", {"id": short("STO", uuid.uuid4())})
    hidden = _update(team, team.outsider, name="x")
    assert missing.status_code == hidden.status_code == 404
    assert missing.json() == hidden.json()


@pytest.mark.parametrize("action", OUTSIDER_CALLS)
def test_invited_but_not_accepted_member_is_still_an_outsider(team, action):
    StoreMembership.objects.create(
        store=team.store,
        merchant=team.outsider.merchant,
        role="admin",
        status=MembershipStatus.INVITED,
    )
    assert_error(OUTSIDER_CALLS[action](team, team.outsider), 404, "Store not found")


def test_a_member_of_one_store_cannot_touch_another_store_of_the_same_owner(team):
    other = assert_ok(team.owner.post("store/create-store", {"name": "Second"}))["data"]["store"]
    response = team.admin.post("store/update-store", {"id": other["id"], "name": "x"})
    assert_error(response, 404, "Store not found")


# --- deleted stores ---------------------------------------------------------------------------


@pytest.mark.parametrize("action", OUTSIDER_CALLS)
def test_deleted_store_answers_404_to_everyone(team, action):
    assert_ok(_delete(team, team.owner))
    for client in (team.owner, team.admin):
        assert_error(OUTSIDER_CALLS[action](team, client), 404, "Store not found")


def test_deleted_store_is_no_longer_listed(team):
    assert list(active_stores_for(team.owner.merchant)) == [team.store]
    assert_ok(_delete(team, team.owner))
    assert list(active_stores_for(team.owner.merchant)) == []
    assert list(active_stores_for(team.member.merchant)) == []


# --- the owner stays the owner ----------------------------------------------------------------


def test_owner_cannot_be_removed_even_by_themselves(team):
    assert_error(_remove(team, team.owner, team.owner), 403, "The store owner cannot be removed")
    assert _role(team, team.owner) == "owner"


def test_owner_cannot_be_demoted_through_the_api(team):
    response = _set_role(team, team.owner, team.owner, "admin")
    assert_error(response, 403)
    assert _role(team, team.owner) == "owner"


@pytest.mark.parametrize("role", ["owner", "superadmin", "", None])
def test_only_admin_and_member_can_be_assigned(team, role):
    assert_error(_set_role(team, team.owner, team.member, role), 400)
    assert_error(_add(team, team.owner, "z@example.com", role), 400)
    assert _role(team, team.member) == "member"


# --- answers ----------------------------------------------------------------------------------


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process even when REDIS_URL points at a real broker."""
    from pancake.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_add_merchant_answers_the_flat_membership(
    team, django_capture_on_commit_callbacks, eager_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _add(team, team.owner, "  New.Person@Example.COM ", "admin")
    data = assert_ok(response)["data"]
    invitee = Merchant.objects.get(email="new.person@example.com")
    assert set(data) == {"storeId", "merchantId", "email", "role", "status", "addedAt"}
    assert data["storeId"] == team.store_id
    assert data["merchantId"] == short("MER", invitee.pk)
    assert data["email"] == "new.person@example.com"
    assert data["role"] == "admin"
    assert data["status"] == "invited"
    assert TIMESTAMP_RE.match(data["addedAt"])
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert "/invite/" in mail.outbox[0].body


def test_add_merchant_for_an_existing_member_is_409(team):
    response = _add(team, team.owner, team.member.merchant.email.upper(), "admin")
    assert_error(response, 409, "This merchant is already a member of the store")
    assert _role(team, team.member) == "member"
    assert_error(_add(team, team.owner, team.owner.merchant.email, "member"), 409)
    assert _role(team, team.owner) == "owner"


def test_refused_add_merchant_sends_no_invitation(
    team, django_capture_on_commit_callbacks, eager_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert_error(_add(team, team.owner, team.member.merchant.email, "admin"), 409)
        assert_error(_add(team, team.member, "someone@example.com", "member"), 403)
        assert_error(_add(team, team.outsider, "someone@example.com", "member"), 404)
    assert mail.outbox == []


def test_add_merchant_twice_is_409(team):
    assert_ok(_add(team, team.owner, "twice@example.com"))
    assert_error(_add(team, team.owner, "twice@example.com"), 409)


@pytest.mark.parametrize("email", ["not-an-email", "", "a@", None])
def test_add_merchant_needs_a_valid_email(team, email):
    assert_error(_add(team, team.owner, email), 400)


def test_remove_merchant_answers_message_and_time(team):
    data = assert_ok(_remove(team, team.owner, team.member))["data"]
    assert set(data) == {"message", "removedAt"}
    assert isinstance(data["message"], str) and data["message"]
    assert TIMESTAMP_RE.match(data["removedAt"])


def test_remove_merchant_who_is_not_a_member_is_404(team):
    assert_error(
        _remove(team, team.owner, team.outsider), 404, "Merchant is not a member of this store"
    )


def test_update_role_answers_the_new_role(team):
    data = assert_ok(_set_role(team, team.owner, team.member, "admin"))["data"]
    assert set(data) == {"storeId", "merchantId", "role", "updatedAt"}
    assert data["storeId"] == team.store_id
    assert data["merchantId"] == _mer(team.member)
    assert data["role"] == "admin"
    assert TIMESTAMP_RE.match(data["updatedAt"])


def test_update_role_of_someone_outside_the_store_is_404(team):
    assert_error(_set_role(team, team.owner, team.outsider, "member"), 404)


def test_removing_a_member_keeps_the_store_and_the_merchant(team):
    assert_ok(_remove(team, team.owner, team.member))
    assert Store.objects.filter(pk=team.store.pk, deleted_at__isnull=True).exists()
    assert Merchant.objects.filter(pk=team.member.merchant.pk).exists()
