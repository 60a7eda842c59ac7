"""The pieces: structure of JSON, structure diffs, message templates, account inference."""

from __future__ import annotations

import pytest

from orwidgets.conform import infer_account, template
from orwidgets.conform._probe import Answer
from orwidgets.conform._shape import compare_text, diff_shapes, shape_of, types_text
from orwidgets.policy import get_policy


def _diff(real, emulator):
    return [(d.path, d.kind, types_text(set(d.real)), types_text(set(d.emulator)))
            for d in diff_shapes(shape_of(real), shape_of(emulator))]


def test_the_structure_is_key_paths_and_types_with_lists_as_the_union_of_their_items():
    shape = shape_of({"data": [{"id": "a", "limit": None}, {"id": "b", "limit": 5, "x": True}],
                      "weird.key": []})
    assert shape.types == {
        "": {"object"}, "data": {"array"}, "data[]": {"object"}, "data[].id": {"string"},
        "data[].limit": {"null", "number"}, "data[].x": {"boolean"}, '["weird.key"]': {"array"},
    }
    assert shape.empty_arrays == {'["weird.key"]'}


def test_values_never_count_only_paths_and_types():
    real = {"id": "gen-1", "created": 1774501756, "usage": {"cost": 0, "total_tokens": 273}}
    emulator = {"id": "gen-99", "created": 17, "usage": {"cost": 0.25, "total_tokens": 2}}
    assert _diff(real, emulator) == []


def test_a_missing_object_is_one_difference_not_one_per_field():
    real = {"usage": {"cost_details": {"a": 0, "b": 0}}}
    assert _diff(real, {"usage": {}}) == [("usage.cost_details", "only_real", "object", "nothing")]


def test_null_goes_with_every_type():
    real, emulator = {"expires_at": None, "limit": 1}, {"expires_at": "2027-01", "limit": None}
    assert _diff(real, emulator) == []


def test_an_empty_list_says_nothing_about_its_items():
    real = {"previous_errors": [{"code": 402, "message": "m"}]}
    assert _diff(real, {"previous_errors": []}) == []
    assert _diff({"previous_errors": []}, real) == []


def test_a_type_change_is_reported_once_not_with_its_children():
    assert _diff({"a": {"b": 1}}, {"a": "text"}) == [("a", "type", "object", "string")]


def test_only_emulator_paths_are_reported_too():
    assert _diff({"a": 1}, {"a": 1, "b": [1]}) == [("b", "only_emulator", "nothing", "array")]


@pytest.mark.parametrize(("text", "masked"), [
    ("This request requires more credits, or fewer max_tokens. You requested up to 16384 tokens, "
     "but can only afford 9862. To increase, visit https://openrouter.ai/settings/credits and add "
     "more credits",
     "This request requires more credits, or fewer max_tokens. You requested up to <n> tokens, "
     "but can only afford <n>. To increase, visit <url> and add more credits"),
    ("minimax/minimax-m2.5:free is not a valid model ID", "<model> is not a valid model ID"),
    ("Key limit exceeded (weekly limit). Manage it using https://openrouter.ai/workspaces/default/"
     "keys/abc $20.05 of $20.00 used; resets 2026-10-12T00:00:00.000Z.",
     "Key limit exceeded (weekly limit). Manage it using <url> <n> of <n> used; resets <time>."),
    ("user_2vJpEi3p0l05bI4nogxpSKmlno5 / 0df9e665-d932-5740-b2c7-b52af166bc11",
     "<id> / <id>"),
    ("Rate limit exceeded: free-models-per-min. ", "Rate limit exceeded: free-models-per-min. "),
])
def test_templates_mask_numbers_urls_ids_times_and_model_ids(text, masked):
    assert template(text) == masked


def test_texts_compare_exact_same_template_or_different():
    assert compare_text("No auth credentials found", "No auth credentials found") == "exact"
    assert compare_text("afford 9862 tokens", "afford 0 tokens") == "same template"
    assert compare_text("No cookie auth credentials found", "No auth credentials found") \
        == "different text"


def _key(data: dict) -> Answer:
    return Answer(status=200, body={"data": data}, is_json=True)


def test_credits_when_they_answer_give_purchases_and_balance():
    credits = Answer(status=200, body={"data": {"total_credits": 25, "total_usage": 7.5}},
                     is_json=True)
    account, notes = infer_account(_key({"is_management_key": True}), credits, None,
                                   get_policy("current"))
    assert (account.balance_usd, account.purchased_usd, account.management) == (17.5, 25.0, True)
    assert notes[1] == ("purchased $25.00 and balance $17.50 from GET /credits (total_credits, "
                        "total_credits - total_usage)")


def test_the_high_free_limit_means_the_tiers_purchase():
    version = get_policy("2026-08")
    account, notes = infer_account(
        _key({"is_free_tier": False, "usage": 2.5, "free_model_daily_requests": {"limit": 1000}}),
        None, None, version)
    assert (account.purchased_usd, account.balance_usd) == (version.free_grant_from_usd,
                                                            version.free_grant_from_usd - 2.5)


def test_a_402_on_the_free_model_means_a_negative_balance():
    account, notes = infer_account(_key({"is_free_tier": True, "usage": 0}), None,
                                   Answer(status=402), get_policy("current"))
    assert account.balance_usd < 0
    assert notes[-1].endswith(
        "the free-model chat answered 402, which only a negative balance does")


def test_without_key_data_the_account_is_a_new_one():
    account, notes = infer_account(Answer(status=401), None, None, get_policy("current"))
    assert (account.balance_usd, account.purchased_usd, account.management) == (0.0, 0.0, False)
