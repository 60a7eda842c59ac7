"""The shared account model: derived top-up flag, clamping and refusals."""

from __future__ import annotations

import math

import pytest
from traitlets import TraitError

from orwidgets import policy
from orwidgets.widgets import AccountModel
from orwidgets.widgets._model import MAX_USD

THRESHOLD = policy.TOPUP_THRESHOLD_USD


def test_default_policy_is_the_articles():
    assert AccountModel().policy == policy.DEFAULT_POLICY_ID


def test_topped_up_follows_purchases_at_the_threshold():
    acct = AccountModel(purchased_usd=0.0)
    assert acct.topped_up is False
    acct.purchased_usd = THRESHOLD - 0.01
    assert acct.topped_up is False
    acct.purchased_usd = THRESHOLD
    assert acct.topped_up is True


def test_setting_topped_up_raises_purchases_to_the_threshold():
    acct = AccountModel(purchased_usd=3.0)
    acct.topped_up = True
    assert acct.purchased_usd == THRESHOLD


def test_setting_topped_up_keeps_larger_purchases():
    acct = AccountModel(purchased_usd=0.0)
    acct.purchased_usd = 25.0
    acct.topped_up = True
    assert acct.purchased_usd == 25.0


def test_clearing_topped_up_sets_purchases_to_zero():
    acct = AccountModel(purchased_usd=25.0)
    acct.topped_up = False
    assert acct.purchased_usd == 0.0


def test_negative_purchases_clamp_to_zero():
    acct = AccountModel()
    acct.purchased_usd = -5.0
    assert acct.purchased_usd == 0.0


def test_negative_balance_is_allowed():
    acct = AccountModel()
    acct.balance_usd = -0.5
    assert acct.balance_usd == -0.5


def test_huge_balance_clamps_to_max():
    acct = AccountModel()
    acct.balance_usd = 1e12
    assert acct.balance_usd == MAX_USD


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_balance_is_refused_naming_the_trait(bad):
    acct = AccountModel(balance_usd=7.0)
    with pytest.raises(TraitError, match="balance_usd: expected a finite number"):
        acct.balance_usd = bad
    assert acct.balance_usd == 7.0


def test_text_balance_is_refused():
    acct = AccountModel()
    with pytest.raises(TraitError, match="balance_usd"):
        acct.balance_usd = "ten"  # type: ignore[assignment]


def test_unknown_policy_is_refused_listing_the_choices():
    acct = AccountModel()
    with pytest.raises(TraitError, match="unknown policy version 'v9'.*legacy-2024"):
        acct.policy = "v9"


def test_topup_adds_to_balance_and_purchases():
    acct = AccountModel(balance_usd=2.0, purchased_usd=0.0)
    acct.topup(10.0)
    assert (acct.balance_usd, acct.purchased_usd, acct.topped_up) == (12.0, 10.0, True)


@pytest.mark.parametrize("bad", [0, -1, math.nan])
def test_topup_refuses_non_positive_amounts(bad):
    acct = AccountModel()
    with pytest.raises(ValueError, match="usd: a top-up must be"):
        acct.topup(bad)


def test_repr_names_the_numbers():
    acct = AccountModel(balance_usd=42.3, purchased_usd=10.0)
    assert repr(acct) == ("AccountModel(policy='2025-04', balance_usd=42.3, purchased_usd=10.0, "
                          "topped_up=True)")


def test_every_trait_has_help():
    acct = AccountModel()
    missing = [n for n, t in acct.traits().items() if not t.help]
    assert missing == []
