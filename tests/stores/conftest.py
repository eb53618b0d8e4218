"""A store with a full team, each member holding their own signed API client."""

from dataclasses import dataclass

import pytest

from tests.api.helpers import short
from tests.helpers import ApiClient


@dataclass
class Team:
    store: object
    owner: ApiClient
    admin: ApiClient
    admin2: ApiClient
    member: ApiClient
    outsider: ApiClient

    @property
    def store_id(self) -> str:
        return short("STO", self.store.pk)


@pytest.fixture
def team(api, store, make_api, member_of):
    admin, admin2, member, outsider = (make_api() for _ in range(4))
    member_of(store, admin.merchant, "admin")
    member_of(store, admin2.merchant, "admin")
    member_of(store, member.merchant, "member")
    return Team(
        store=store, owner=api, admin=admin, admin2=admin2, member=member, outsider=outsider
    )
