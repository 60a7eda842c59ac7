"""AccountPanel: GET /key and GET /credits read into the shared account; failures explained."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import unescape

import pytest
from widget_helpers import FakeClient, FakeResult, in_memory_emulator

from orwidgets import policy
from orwidgets._secret import SecretKey
from orwidgets.widgets import AccountModel, AccountPanel, FreeQuotaExplorer
from orwidgets.widgets.account import read_account
from orwidgets.policy import CURRENT

KEY = "sk-or-v1-" + "5ec7e7" * 10 + "beef"
#: 19:00 UTC: five hours before the daily reset.
AT_19H = datetime(2026, 10, 2, 19, 0, tzinfo=timezone.utc).timestamp()

KEY_2026 = {"data": {"label": "sk-or-v1-5ec...eef", "limit": None, "usage": 25.5,
                     "is_free_tier": False, "is_management_key": False,
                     "free_model_daily_requests": {"used": 12, "limit": 1000, "remaining": 988},
                     "rate_limit": {"requests": -1, "interval": "10s"}}}
KEY_2025 = {"data": {"label": "sk-or-v1-5ec...eef", "usage": 1.0, "is_free_tier": False,
                     "rate_limit": {"requests": 100, "interval": "10s"}}}
CREDITS = {"data": {"total_credits": 100.5, "total_usage": 25.75}}
FORBIDDEN = {"error": {"code": 403, "message": policy.MESSAGES.management_only}}


def panel(client: FakeClient, account: AccountModel | None = None, **kw) -> AccountPanel:
    return AccountPanel(account or AccountModel(), target="openrouter", api_key=KEY,
                        client_factory=lambda url, key: client, clock=lambda: AT_19H, **kw)


def ok_client(key_body=KEY_2026, credits=FakeResult(200, CREDITS)) -> FakeClient:
    return FakeClient(FakeResult(200, key_body), credits)


def test_reads_balance_purchases_and_free_requests_into_the_account():
    acct = AccountModel(policy="current")
    p = panel(ok_client(), acct)
    reading = p.refresh()
    assert reading is not None and reading.ok
    assert acct.balance_usd == pytest.approx(100.5 - 25.75)
    assert acct.purchased_usd == 100.5 and acct.topped_up
    assert acct.free_used_today == 12
    assert (p.balance_usd, p.purchased_usd, p.free_used, p.free_remaining) == (
        pytest.approx(74.75), 100.5, 12, 988)


def test_readout_shows_tier_free_requests_and_reset_countdown():
    p = panel(ok_client(), AccountModel(policy="current"))
    p.refresh()
    html = p._readout.value
    assert ("1,000 free requests a day, top tier (reported by GET /key: "
            "free_model_daily_requests.limit)") in html
    assert "12 used, 988 left" in html
    assert "00:00 UTC, in 5 h 00 min" in html
    assert "$74.75" in html and "$100.50" in html


def test_other_views_follow_the_read_account():
    acct = AccountModel(policy="current", purchased_usd=0.0)
    quota = FreeQuotaExplorer(acct)
    panel(ok_client(), acct).refresh()
    assert quota.daily_quota == policy.daily_free_quota(100.5, "current")
    assert quota.model.free_left_today == quota.daily_quota - 12


def test_403_on_credits_is_explained_not_a_crash():
    client = ok_client(credits=FakeResult(403, FORBIDDEN, policy.MESSAGES.management_only))
    acct = AccountModel(policy="current", balance_usd=3.0, purchased_usd=0.0)
    p = panel(client, acct)
    reading = p.refresh()
    assert reading.ok and reading.credits_status == "forbidden"
    assert (acct.balance_usd, acct.purchased_usd) == (3.0, 0.0)  # not overwritten by unknowns
    assert acct.free_used_today == 12
    html = p._readout.value
    assert "orw-credits-forbidden" in html and "only management keys may read credits" in html
    assert "1,000 free requests a day" in html  # the tier still comes from GET /key
    assert p._notice.text == ""


def test_401_on_key_is_shown_and_changes_nothing():
    client = FakeClient(FakeResult(401, {"error": {"code": 401, "message": "User not found."}},
                                   "User not found."), FakeResult(200, CREDITS))
    acct = AccountModel(balance_usd=7.0)
    p = panel(client, acct)
    reading = p.refresh()
    assert not reading.ok and client.calls == ["key"]
    assert acct.balance_usd == 7.0
    assert "401, the key was not accepted (User not found.)" in p._readout.value


def test_network_failure_is_a_message():
    client = FakeClient(FakeResult(None, None, "connection refused"), FakeResult(200, CREDITS))
    p = panel(client)
    assert p.refresh().message == "GET /api/v1/key: no answer (connection refused)."


def test_legacy_key_shape_reports_rate_limit_and_no_free_count():
    p = panel(ok_client(KEY_2025))
    reading = p.refresh()
    assert reading.free_used is None and reading.rate_limit == "100 requests per 10s"
    html = p._readout.value
    assert "not reported" in html and "100 requests per 10s" in html
    expected = policy.daily_free_quota(100.5, "2025-04")
    assert f"{expected:,} free requests a day" in html
    assert ("worked out from $100.50 purchased under '2025-04'; GET /key under '2025-04' does "
            "not report it") in unescape(html)
    assert "reported by GET /key" not in html


def test_no_key_makes_no_call_and_says_how_to_give_one():
    client = ok_client()
    p = AccountPanel(target="openrouter", client_factory=lambda u, k: client)
    assert p.refresh() is None and client.calls == []
    assert "OPENROUTER_API_KEY" in p._notice.text


def test_custom_target_needs_a_url():
    p = AccountPanel(target="custom", api_key=KEY, client_factory=lambda u, k: ok_client())
    assert p.refresh() is None
    assert "API base" in p._notice.text


def test_environment_key_is_used(monkeypatch):
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    seen = []
    p = AccountPanel(target="openrouter",
                     client_factory=lambda u, k: seen.append((u, k)) or ok_client())
    p.refresh()
    assert seen[0][1] == SecretKey(KEY)


def test_typed_key_never_stays_in_widget_state_or_repr():
    seen = []
    p = AccountPanel(target="openrouter",
                     client_factory=lambda u, k: seen.append(k) or ok_client(),
                     clock=lambda: AT_19H)
    p._key.box.value = KEY
    assert p._key.box.value == ""
    p.refresh()
    assert seen == [SecretKey(KEY)]
    states = []
    stack = [p]
    while stack:
        w = stack.pop()
        states.append(json.dumps(w.get_state(), default=str))
        stack.extend(getattr(w, "children", ()))
    assert not any(KEY in s for s in states)
    assert KEY not in repr(p) and SecretKey(KEY).masked in repr(p)


def test_read_account_parses_without_widgets():
    reading = read_account(ok_client(), AT_19H)
    assert (reading.free_used, reading.free_limit, reading.free_remaining) == (12, 1000, 988)
    assert reading.seconds_to_reset == 5 * 3600
    assert reading.is_management is False


def test_dom_classes_and_repr():
    p = panel(ok_client())
    assert "orw-account-panel" in p._dom_classes
    assert "orw-account-refresh" in p._refresh._dom_classes
    assert repr(p).startswith("AccountPanel(target='openrouter', policy='2025-04', key=")


# --- against the emulator --------------------------------------------------------------------


def _emulator(policy_id: str):
    return in_memory_emulator(policy_id, lambda: AT_19H)


def test_emulator_topped_up_account_under_the_article_policy():
    handle, client = _emulator("2025-04")
    acct = AccountModel(purchased_usd=0.0, balance_usd=0.0)
    p = AccountPanel(acct, demo_account="topped_up", emulator_factory=lambda: handle,
                     client_factory=client)
    reading = p.refresh()
    assert reading.ok, reading.message
    assert acct.purchased_usd == policy.TOPUP_THRESHOLD_USD and acct.topped_up
    assert acct.balance_usd == policy.TOPUP_THRESHOLD_USD
    assert reading.free_limit == policy.FREE_DAILY_HIGH and reading.free_used == 0
    assert "come from the emulator" in p._readout.value
    assert "00:00 UTC, in 5 h 00 min" in p._readout.value


def test_emulator_current_policy_forbids_credits_for_a_plain_key():
    handle, client = _emulator("current")
    acct = AccountModel(balance_usd=1.0, purchased_usd=0.0)
    p = AccountPanel(acct, demo_account="five", emulator_factory=lambda: handle,
                     client_factory=client)
    reading = p.refresh()
    assert reading.ok and reading.credits_status == "forbidden"
    assert acct.policy == CURRENT.id  # the panel adopts the emulator's rules (the dated id)
    assert acct.balance_usd == 1.0
    assert "orw-credits-forbidden" in p._readout.value


def test_emulator_management_key_reads_credits_under_current():
    handle, client = _emulator("current")
    acct = AccountModel()
    p = AccountPanel(acct, demo_account="management", emulator_factory=lambda: handle,
                     client_factory=client)
    reading = p.refresh()
    assert reading.credits_status == "ok" and reading.is_management is True
    assert acct.purchased_usd == policy.TOPUP_THRESHOLD_USD


@pytest.mark.parametrize("pid", list(policy.POLICIES))
def test_emulator_tier_says_where_it_really_comes_from(pid):
    """Under 2026-08 GET /key reports free_model_daily_requests.limit; before, it does not, and
    the panel must not claim it does (the numbers then come from the in-kernel engine)."""
    handle, client = _emulator(pid)
    p = AccountPanel(AccountModel(policy=pid), demo_account="topped_up",
                     emulator_factory=lambda: handle, client_factory=client)
    reading = p.refresh()
    html = unescape(p._readout.value)
    tier = html.split('class="orw-account-tier">', 1)[1].split("</td>", 1)[0]
    if policy.get_policy(pid).key_shape == "2026":
        assert reading.free_source == "GET /key"
        assert "reported by GET /key: free_model_daily_requests.limit" in tier
        assert "engine" not in html
    else:
        assert reading.free_source == "emulator engine"
        assert "reported by GET /key" not in html
        assert f"from the emulator's engine: GET /key under '{pid}' does not report it" in tier
        assert "come from the emulator's engine" in html


def test_unknown_demo_account_is_a_clear_error_naming_the_choices():
    from orwidgets.emulator import DEMO_ACCOUNTS

    with pytest.raises(ValueError) as info:
        AccountPanel(demo_account="nope")
    message = str(info.value)
    assert message.startswith("demo_account: 'nope' is not an emulator demo account")
    assert all(demo.name in message for demo in DEMO_ACCOUNTS)


def test_a_known_demo_account_is_the_one_shown():
    assert AccountPanel(demo_account="negative")._demo.value == "negative"


# --- the key's own limit ---------------------------------------------------------------------------


def cell(html: str, slug: str) -> str:
    return unescape(html.split(f'class="orw-account-{slug}">', 1)[1].split("</td>", 1)[0])


def key_body(**limit) -> dict:
    return {"data": {**KEY_2026["data"], **limit}}


@pytest.mark.parametrize(("reset", "when", "wait"), [
    # AT_19H is Friday 2026-10-02, 19:00 UTC.
    ("daily", "2026-10-03 00:00 UTC (daily), in 5 h 00 min", 5 * 3600),
    ("weekly", "2026-10-05 00:00 UTC (weekly), in 2 d 05 h", (2 * 24 + 5) * 3600),
    ("monthly", "2026-11-01 00:00 UTC (monthly), in 29 d 05 h", (29 * 24 + 5) * 3600),
])
def test_key_limit_remaining_and_the_next_reset_in_utc(reset, when, wait):
    p = panel(ok_client(key_body(limit=20, limit_remaining=4.5, limit_reset=reset)))
    reading = p.refresh()
    assert (reading.limit_usd, reading.limit_remaining_usd, reading.limit_reset) == (20, 4.5, reset)
    assert reading.limit_resets_at - AT_19H == wait
    html = p._readout.value
    assert cell(html, "limit").startswith("$20.00 a ")
    assert cell(html, "limit-remaining") == "$4.50 of $20.00"
    assert cell(html, "limit-reset") == when


def test_a_spent_key_limit_says_every_call_answers_403_until_the_reset():
    p = panel(ok_client(key_body(limit=1, limit_remaining=0, limit_reset="daily")))
    p.refresh()
    assert cell(p._readout.value, "limit-remaining") == (
        "$0.00 of $1.00: spent, so every call answers 403 Key limit exceeded until the reset")


def test_no_limit_and_a_lifetime_limit_are_told_apart():
    p = panel(ok_client(key_body(limit=None, limit_remaining=None, limit_reset=None)))
    p.refresh()
    assert cell(p._readout.value, "limit") == "none: this key may spend the whole balance"
    assert "orw-account-limit-reset" not in p._readout.value
    p = panel(ok_client(key_body(limit=5, limit_remaining=2, limit_reset=None)))
    reading = p.refresh()
    assert reading.limit_resets_at is None
    assert cell(p._readout.value, "limit") == "$5.00 for all time (it never resets)"
    assert cell(p._readout.value, "limit-reset") == "never: a lifetime limit"


def test_an_answer_without_limit_fields_says_so():
    p = panel(ok_client(KEY_2025))
    p.refresh()
    assert cell(p._readout.value, "limit") == "unknown: this GET /key answer has no limit fields"


@pytest.mark.parametrize("pid", list(policy.POLICIES))
def test_the_member_demo_key_shows_its_spent_daily_limit_under_every_version(pid):
    from orwidgets.emulator.state import DEMO_KEYS

    member = next(k for k in DEMO_KEYS if k.name == "member")
    handle, client = _emulator(pid)
    p = AccountPanel(AccountModel(policy=pid), demo_account="member",
                     emulator_factory=lambda: handle, client_factory=client)
    reading = p.refresh()
    assert reading.ok, reading.message
    assert (reading.limit_usd, reading.limit_remaining_usd, reading.limit_reset) == (
        member.limit_usd, 0.0, "daily")
    html = p._readout.value
    assert cell(html, "limit") == "$1.00 a day"
    assert cell(html, "limit-remaining").startswith("$0.00 of $1.00: spent")
    assert cell(html, "limit-reset") == "2026-10-03 00:00 UTC (daily), in 5 h 00 min"


def test_every_demo_key_can_be_picked():
    from orwidgets.emulator import DEMO_ACCOUNTS
    from orwidgets.emulator.state import DEMO_KEYS

    p = AccountPanel()
    assert list(p._demo.options) == [d.name for d in DEMO_ACCOUNTS] + [k.name for k in DEMO_KEYS]
