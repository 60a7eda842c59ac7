"""Per-key spending limits in the engine: UTC windows, the 403 and the key-bound 402."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from orwidgets.engine import Engine, Reason, Request, window_reset_s
from orwidgets.policy import MESSAGES


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


FRIDAY = utc(2026, 3, 20, 12, 0)  # a Friday
QUARTER = Request.paid_call(0.25)
KEY_HINT = MESSAGES.remedy_key_limit  # pinned to the capture by tests/test_policy.py


def keyed(policy="2026-08", balance=10.0, **limit):
    engine = Engine(policy)
    acct, _ = engine.create_account(balance, balance)
    key = engine.create_key(acct.account_id, name="ci", now=FRIDAY, **limit)
    return engine, key


def spend_to_the_limit(engine, key, now):
    for _ in range(4):  # 4 x $0.25 = the $1 limit
        assert engine.decide_for_key(key.secret, QUARTER, now).ok


@pytest.mark.parametrize("reset, now, reset_at", [
    ("daily", utc(2026, 3, 20, 23, 59, 59), utc(2026, 3, 21)),
    ("weekly", utc(2026, 3, 20, 12), utc(2026, 3, 23)),          # Friday -> Monday
    ("weekly", utc(2026, 3, 22, 23, 59), utc(2026, 3, 23)),      # Sunday night -> Monday
    ("weekly", utc(2026, 3, 23, 0, 0), utc(2026, 3, 30)),        # Monday 00:00 starts a week
    ("monthly", utc(2026, 3, 20, 12), utc(2026, 4, 1)),
    ("monthly", utc(2026, 12, 31, 23), utc(2027, 1, 1)),
    (None, utc(2026, 3, 20, 12), None),
])
def test_windows_end_at_midnight_utc_on_monday_and_on_the_first(reset, now, reset_at):
    assert window_reset_s(reset, now) == reset_at


def test_a_spent_daily_limit_is_403_with_what_was_used_and_when_it_resets():
    engine, key = keyed(limit_usd=1.0, limit_reset="daily")
    spend_to_the_limit(engine, key, FRIDAY)
    d = engine.decide_for_key(key.secret, QUARTER, FRIDAY + 1)
    text = (f"Key limit exceeded (daily limit). Manage it using "
            f"https://openrouter.ai/workspaces/default/keys/{key.hash} $1.00 of $1.00 used; "
            "resets 2026-03-21T00:00:00.000Z.")
    assert (d.status, d.reason, d.message) == (403, Reason.KEY_LIMIT, text)
    assert d.error_body("u") == {"error": {"code": 403, "message": text,
                                           "metadata": {"limit_source": "openrouter_key_limit"}},
                                 "user_id": "u"}
    assert d.headers() == {}


def test_the_spent_key_403_comes_first_and_blocks_free_models_too():
    engine, key = keyed(limit_usd=1.0, limit_reset="daily")
    spend_to_the_limit(engine, key, FRIDAY)
    d = engine.decide_for_key(key.secret, Request.free_call(), FRIDAY)
    assert d.reason is Reason.KEY_LIMIT
    assert engine.snapshot(key.account.account_id, FRIDAY).free_used_today == 0  # not counted


def test_the_day_rolls_at_midnight_utc():
    engine, key = keyed(limit_usd=1.0, limit_reset="daily")
    spend_to_the_limit(engine, key, utc(2026, 3, 20, 23, 0))
    assert engine.decide_for_key(key.secret, QUARTER, utc(2026, 3, 20, 23, 59, 59)).status == 403
    assert engine.decide_for_key(key.secret, QUARTER, utc(2026, 3, 21, 0, 0)).ok


def test_the_week_rolls_on_monday_not_on_sunday():
    engine, key = keyed(limit_usd=1.0, limit_reset="weekly")
    spend_to_the_limit(engine, key, FRIDAY)
    assert engine.decide_for_key(key.secret, QUARTER, utc(2026, 3, 22, 23, 59)).status == 403
    d = engine.decide_for_key(key.secret, QUARTER, utc(2026, 3, 22, 12))
    assert d.message.endswith("$1.00 of $1.00 used; resets 2026-03-23T00:00:00.000Z.")
    assert engine.decide_for_key(key.secret, QUARTER, utc(2026, 3, 23)).ok


def test_the_month_rolls_on_the_first():
    engine, key = keyed(limit_usd=1.0, limit_reset="monthly")
    spend_to_the_limit(engine, key, utc(2026, 3, 2))
    assert engine.decide_for_key(key.secret, QUARTER, utc(2026, 3, 31, 23, 59)).status == 403
    assert engine.decide_for_key(key.secret, QUARTER, utc(2026, 4, 1)).ok


def test_a_lifetime_limit_never_resets_and_says_total():
    engine, key = keyed(limit_usd=1.0)
    spend_to_the_limit(engine, key, FRIDAY)
    d = engine.decide_for_key(key.secret, QUARTER, utc(2027, 1, 1))
    assert d.message == (f"Key limit exceeded (total limit). Manage it using "
                         f"https://openrouter.ai/workspaces/default/keys/{key.hash} "
                         "$1.00 of $1.00 used.")


@pytest.mark.parametrize("policy, text, metadata", [
    ("2025-04", "Key limit exceeded. Manage it using https://openrouter.ai/keys", None),
    ("2025-07", "Key limit exceeded (daily limit). Manage it using https://openrouter.ai/settings/keys",
     None),
])
def test_older_versions_word_the_403_as_captured_then(policy, text, metadata):
    engine, key = keyed(policy, balance=50.0, limit_usd=1.0, limit_reset="daily")
    for i in range(4):
        assert engine.decide_for_key(key.secret, QUARTER, FRIDAY + i).ok
    d = engine.decide_for_key(key.secret, QUARTER, FRIDAY + 10)
    assert (d.status, d.message) == (403, text)
    assert d.error_body("u") == {"error": {"code": 403, "message": text}, "user_id": "u"}


# 100 prompt tokens at $1e-6 and up to 1,000 output tokens at $1e-4: up to $0.1001.
BIG = Request(free=False, prompt_tokens=100, max_tokens=1000, completion_tokens=10,
              prompt_price=1e-6, completion_price=1e-4)


def test_a_key_whose_remainder_cannot_cover_the_request_gets_the_key_bound_402():
    engine, key = keyed(limit_usd=1.0, limit_reset="daily")
    engine.spend(key, 0.95, FRIDAY)
    d = engine.decide_for_key(key.secret, BIG, FRIDAY)
    text = ("This request requires more credits, or fewer max_tokens. You requested up to 1000 "
            "tokens, but can only afford 499. To increase, visit "
            f"https://openrouter.ai/workspaces/default/keys/{key.hash} and adjust the key's daily limit")
    assert (d.status, d.reason, d.message) == (402, Reason.KEY_LIMIT_AFFORDABILITY, text)
    assert d.error_body("u") == {
        "error": {"code": 402, "message": text,
                  "metadata": {"limit_source": "openrouter_key_limit", "remedy_hint": KEY_HINT,
                               "provider_name": None,
                               "previous_errors": [{"code": 402, "message": text}]}},
        "user_id": "u",
    }


def test_the_key_bound_402_of_older_versions_asks_for_a_key_with_a_higher_monthly_limit():
    engine, key = keyed("2025-07", limit_usd=1.0, limit_reset="weekly")
    engine.spend(key, 0.95, FRIDAY)
    d = engine.decide_for_key(key.secret, BIG, FRIDAY)
    assert d.message.endswith("can only afford 499. To increase, visit "
                              "https://openrouter.ai/settings/keys and create a key with a higher "
                              "monthly limit")
    assert d.error_body("u")["error"]["metadata"] == {"provider_name": None}


def test_when_the_balance_is_smaller_than_the_key_remainder_the_balance_binds():
    engine, key = keyed(balance=0.05, limit_usd=1.0, limit_reset="daily")
    d = engine.decide_for_key(key.secret, BIG, FRIDAY)
    assert d.reason is Reason.AFFORDABILITY
    assert d.error_body("u")["error"]["metadata"]["limit_source"] == "openrouter_credits"


def test_usage_is_per_key_and_the_account_pays_for_all():
    engine, key = keyed(limit_usd=1.0, limit_reset="daily")
    other = engine.create_key(key.account.account_id, name="other", now=FRIDAY)
    spend_to_the_limit(engine, key, FRIDAY)
    assert engine.decide_for_key(other.secret, QUARTER, FRIDAY).ok  # no limit on this one
    snap = engine.key_snapshot(key, FRIDAY)
    assert (snap.usage_daily_usd, snap.limit_remaining_usd, snap.resets_at) == (1.0, 0.0, utc(2026, 3, 21))
    assert engine.key_snapshot(other, FRIDAY).usage_usd == 0.25
    assert engine.snapshot(key.account.account_id, FRIDAY).balance_usd == 8.75


def test_window_usage_of_a_snapshot_rolls_separately_per_window():
    engine, key = keyed(limit_usd=5.0, limit_reset="monthly")
    engine.spend(key, 1.0, utc(2026, 3, 20))   # Friday
    engine.spend(key, 2.0, utc(2026, 3, 23))   # the next Monday
    snap = engine.key_snapshot(key, utc(2026, 3, 23, 12))
    assert (snap.usage_daily_usd, snap.usage_weekly_usd, snap.usage_monthly_usd, snap.usage_usd) == \
        (2.0, 2.0, 3.0, 3.0)
    assert snap.limit_remaining_usd == 2.0
    april = engine.key_snapshot(key, utc(2026, 4, 1))
    assert (april.usage_monthly_usd, april.usage_usd, april.limit_remaining_usd) == (0.0, 3.0, 5.0)


def test_a_lowered_limit_shows_the_overshoot():
    engine, key = keyed(limit_usd=1.0, limit_reset="daily")
    spend_to_the_limit(engine, key, FRIDAY)
    engine.update_key(key, limit_usd=0.5, now=FRIDAY)
    d = engine.decide_for_key(key.secret, QUARTER, FRIDAY)
    assert "$1.00 of $0.50 used" in d.message
    assert engine.key_snapshot(key, FRIDAY).limit_remaining_usd == -0.5


def test_disabled_and_expired_keys_are_unknown():
    engine, key = keyed(expires_at=FRIDAY + 10)
    assert engine.decide_for_key(key.secret, QUARTER, FRIDAY + 9.9).ok
    assert engine.decide_for_key(key.secret, QUARTER, FRIDAY + 10) is None
    assert engine.authenticate(key.secret, FRIDAY + 10) is None
    engine.update_key(key, expires_at=None, disabled=True, now=FRIDAY)
    assert engine.decide_for_key(key.secret, QUARTER, FRIDAY + 20) is None
    engine.update_key(key, disabled=False, now=FRIDAY)
    assert engine.authenticate(key.secret, FRIDAY + 20) is key


def test_a_deleted_key_is_gone():
    engine, key = keyed()
    engine.delete_key(key)
    assert engine.key(key.secret) is None and engine.key_by_hash(key.hash) is None
    assert engine.decide_for_key(key.secret, QUARTER, FRIDAY) is None
    assert key.secret not in key.account.keys


def test_a_failed_request_gives_the_key_its_usage_back():
    engine, key = keyed(limit_usd=1.0, limit_reset="daily")
    d = engine.decide_for_key(key.secret, QUARTER, FRIDAY, duration_s=None)
    engine.complete(d.hold, FRIDAY + 1, failed=True)
    assert engine.key_snapshot(key, FRIDAY + 1).usage_daily_usd == 0.0


def test_keys_have_a_sha256_hash_and_the_creator():
    engine, key = keyed()
    import hashlib

    assert key.hash == hashlib.sha256(key.secret.encode()).hexdigest()
    assert key.creator_user_id == key.account.user_id
    assert key.secret not in repr(key)


@pytest.mark.parametrize("fields, name", [
    ({"limit_usd": -1}, "limit"), ({"limit_usd": "5"}, "limit"), ({"limit_usd": 1e13}, "limit"),
    ({"limit_reset": "hourly"}, "limit_reset"), ({"name": ""}, "name"),
    ({"include_byok_in_limit": "no"}, "include_byok_in_limit"), ({"disabled": 1}, "disabled"),
    ({"expires_at": float("nan")}, "expires_at"), ({"colour": "red"}, "colour"),
])
def test_bad_key_fields_are_a_clear_error(fields, name):
    engine, key = keyed()
    with pytest.raises(ValueError, match=name):
        engine.create_key(key.account.account_id, **fields)
    with pytest.raises(ValueError, match=name):
        engine.update_key(key, now=FRIDAY, **fields)
