"""The one trial rule: what a subscription's first payment charges."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from checkout.trials import first_charge, order_trial_charge, trial_charge


def session(kind="subscription", with_trial=True, trial_days=14, trial_amount=None):
    return SimpleNamespace(
        kind=kind, with_trial=with_trial, trial_days=trial_days, trial_amount=trial_amount
    )


@pytest.mark.parametrize(
    "offer, expected",
    [
        ({}, 0),  # a free trial saves the card
        ({"trial_amount": 100}, 100),  # a paid trial charges its own price
        ({"with_trial": False}, None),  # the buyer did not take the trial
        ({"with_trial": None}, None),
        ({"trial_days": None}, None),  # the product has no trial
        ({"trial_days": 0}, None),
        ({"kind": "onetime"}, None),  # one-time products have none
    ],
)
def test_trial_charge(offer, expected):
    assert trial_charge(session(**offer)) == expected


def test_first_charge_is_the_total_without_a_trial_and_the_trial_price_untaxed_with_one():
    assert first_charge(session(with_trial=False), 11900, 1900) == (11900, 1900)
    assert first_charge(session(), 11900, 1900) == (0, 0)
    assert first_charge(session(trial_amount=100), 11900, 1900) == (100, 0)


def test_an_order_placed_without_its_trial_has_none_even_if_the_session_offered_one():
    order = SimpleNamespace(with_trial=False, session=session())
    assert order_trial_charge(order) is None
    assert order_trial_charge(SimpleNamespace(with_trial=True, session=session())) == 0
