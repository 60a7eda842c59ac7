"""The client's words in the reader's language: class labels and advice, one-line descriptions,
what the retry helper does and why it gave up, and the retry decision table. English attributes
(``label``, ``advice``, ``reason``, ``action``) stay English whatever language is in force (logs,
assertions); the ``*_in(lang)`` forms and the table speak the language, from the catalogues.
OpenRouter's own texts (messages, ``remedy_hint``) are never translated."""

from __future__ import annotations

import html

import pytest

from client_bodies_2026 import (
    AFFORD_402_2026,
    AFFORD_M,
    CAPACITY_RETRY_AFTER,
    FREE_VARIANT_ENDED_404,
    IN_FLIGHT_402,
    KEY_LIMIT_403_CAPTURED,
    KEY_LIMIT_RESETS_ISO,
    WEIGHT_402,
    capacity_429,
)
from client_helpers import DAY_START, ok_body
from orwidgets.client import (
    CallClass,
    RetryAttempt,
    RetryDecisionTable,
    RetryGaveUp,
    retry_decision_table,
    with_retries,
)
from orwidgets.client._classify import build_result
from orwidgets.i18n import set_language
from orwidgets.policy import MESSAGES

pytestmark = pytest.mark.usefixtures("clean_language")

#: The classes whose English advice is OpenRouter's own remedy_hint (quoted, never translated).
WIRE_ADVICE = {
    CallClass.FREE_PER_MINUTE: MESSAGES.remedy_per_minute,
    CallClass.FREE_PER_DAY_LOW: MESSAGES.remedy_per_day_low,
    CallClass.FREE_PER_DAY_HIGH: MESSAGES.remedy_per_day_high,
    CallClass.PAID_RATE: MESSAGES.remedy_paid_rate,
    CallClass.IN_FLIGHT_BUDGET: MESSAGES.remedy_in_flight,
    CallClass.KEY_LIMIT_AFFORDABILITY: MESSAGES.remedy_key_limit,
}


def answer(status: int, body, headers=None, at: float = DAY_START):
    return build_result(status, body, headers or {}, sent_at=at, latency_s=0.0, model="m")


def success():
    return answer(200, ok_body("openai/gpt-4o-mini"))


def stop_of(result, **options) -> RetryGaveUp:
    with pytest.raises(RetryGaveUp) as info:
        with_retries(lambda **_: result, clock=lambda: DAY_START, sleep=lambda s: None,
                     **options)
    return info.value


# --- labels and advice ----------------------------------------------------------------------------


@pytest.mark.parametrize("call_class", list(CallClass), ids=[c.value for c in CallClass])
def test_english_forms_equal_the_english_attributes(call_class):
    assert call_class.label_in("en") == call_class.label
    assert call_class.advice_in("en") == call_class.advice


@pytest.mark.parametrize("lang", ["ja", "zh"])
@pytest.mark.parametrize("call_class", list(CallClass), ids=[c.value for c in CallClass])
def test_labels_and_advice_come_from_the_catalogue(call_class, lang, msgstr):
    assert call_class.label_in(lang) == msgstr(lang, call_class.label)
    status = call_class.label.split()[0]
    if status.isdigit():
        assert call_class.label_in(lang).startswith(f"{status} ")  # the status first, as in English
    own = call_class.advice_text()
    expected = msgstr(lang, own.msgid).format(**{k: str(v) for k, v in own.fields.items()})
    assert call_class.advice_in(lang) == expected != call_class.advice


@pytest.mark.parametrize("call_class", list(WIRE_ADVICE), ids=[c.value for c in WIRE_ADVICE])
def test_advice_that_is_openrouters_remedy_hint_stays_verbatim_in_english(call_class):
    assert call_class.advice == WIRE_ADVICE[call_class]
    assert call_class.advice_text().msgid != WIRE_ADVICE[call_class]  # our words, not the wire's


def test_the_language_in_force_is_the_default_of_the_in_forms(msgstr):
    set_language("ja")
    assert CallClass.TIMEOUT.label_in() == msgstr("ja", "timeout")
    assert CallClass.TIMEOUT.label == "timeout" and CallClass.OK.advice == "Success."


# --- one-line descriptions ------------------------------------------------------------------------


def test_describe_in_english_is_unchanged_and_quotes_the_message_in_other_languages(msgstr):
    result = answer(402, IN_FLIGHT_402, {"Retry-After": "120"})
    assert result.describe() == f"HTTP 402 in-flight budget full (wait): {MESSAGES.in_flight}"
    short = msgstr("ja", CallClass.IN_FLIGHT_BUDGET.label).removeprefix("402 ")
    assert result.describe("ja") == msgstr("ja", "HTTP {status} {label}: {message}").format(
        status=402, label=short, message=MESSAGES.in_flight)
    assert MESSAGES.in_flight in result.describe("zh")
    timeout = build_result(None, None, {}, sent_at=0.0, latency_s=0.0, error=TimeoutError())
    assert timeout.describe() == "no answer: timeout: TimeoutError"
    assert timeout.describe("zh") == msgstr("zh", "no answer: {label}: {message}").format(
        label=msgstr("zh", "timeout"), message="TimeoutError")


# --- the retry helper's words ---------------------------------------------------------------------


def test_a_reason_stays_english_and_reads_in_the_language_asked_for(msgstr):
    set_language("zh")  # the English attribute ignores it
    result = answer(402, WEIGHT_402)
    stop = stop_of(result)
    advice = CallClass.WEIGHT_EXCEEDS_BUDGET
    assert stop.reason == f"{result.describe_text()}. Not retried: {advice.advice}"
    assert str(stop) == stop.reason
    expected = msgstr("zh", "{answer}. {why}").format(
        answer=result.describe("zh"),
        why=msgstr("zh", "Not retried: {advice}").format(advice=advice.advice_in("zh")))
    assert stop.reason_in() == stop.reason_in("zh") == expected
    assert MESSAGES.weight_exceeds_budget in stop.reason_in()


def test_a_key_limit_reason_names_the_reset_in_every_language(msgstr):
    stop = stop_of(answer(403, KEY_LIMIT_403_CAPTURED))
    when = "2026-10-12 00:00 UTC"
    assert KEY_LIMIT_RESETS_ISO.startswith("2026-10-12")
    assert f"Not retried: spent until {when} (the answer says so)." in stop.reason
    why = msgstr("ja", "Not retried: spent until {when} (the answer says so). {advice}").format(
        when=when, advice=CallClass.KEY_LIMIT.advice_in("ja"))
    assert stop.reason_in("ja").endswith(why)


def test_one_attempt_is_one_attempt():
    in_flight = answer(402, IN_FLIGHT_402, {"Retry-After": "120"})
    stop = stop_of(in_flight, max_attempts=1)
    assert stop.reason.endswith(". Gave up after 1 attempt.")
    stop = stop_of(in_flight, max_attempts=2)
    assert stop.reason.endswith(". Gave up after 2 attempts.")


def test_an_action_stays_english_and_reads_in_the_language_asked_for(msgstr):
    seen: list[RetryAttempt] = []
    answers = iter([answer(402, IN_FLIGHT_402, {"Retry-After": "120"})])
    with_retries(lambda: next(answers, success()), clock=lambda: DAY_START, sleep=lambda s: None,
                 jitter=0, on_retry=seen.append)
    (attempt,) = seen
    assert attempt.action == "wait Retry-After"
    assert attempt.action_in("ja") == msgstr("ja", "wait {source}").format(source="Retry-After")
    assert RetryAttempt(1, attempt.result, 0.0, action="back off").action_in("ja") == "back off"


# --- the retry decision table ---------------------------------------------------------------------


def seen_answers() -> dict:
    """One answer of each kind the tutorial's section 11 meets, and when it came."""
    found = {}
    for status, body, headers in (
        (402, IN_FLIGHT_402, {"Retry-After": "120"}),
        (402, WEIGHT_402, {}),
        (402, AFFORD_402_2026, {}),
        (403, KEY_LIMIT_403_CAPTURED, {}),
        (429, capacity_429(), {"Retry-After": str(CAPACITY_RETRY_AFTER)}),
        (404, FREE_VARIANT_ENDED_404, {}),
    ):
        result = answer(status, body, headers)
        found[result.call_class] = (result, DAY_START)
    return found


def reference_table(seen, done) -> str:
    """The tutorial's retry-table cell as it was before the table moved into the library."""
    from orwidgets.client import with_retries as helper

    def what_with_retries_does(answer, at, success, **options):
        answers, waits, steps = iter([answer]), [], []
        try:
            helper(lambda **changes: next(answers, success), clock=lambda: at, jitter=0,
                   sleep=waits.append, on_retry=steps.append, **options)
        except RetryGaveUp as stop:
            return "never: stops at once" + (f", until {stop.until:%Y-%m-%d %H:%M} UTC"
                                             if stop.until else "")
        action = steps[0].action
        return f"{action} ({waits[0]:.0f} s), then retry" if waits else f"{action}, at once"

    head = ["answer", "retryable", "with_retries", "with shrink_max_tokens and follow_fallbacks",
            "what to do"]
    rows = [[call_class.label, "yes" if call_class.retryable else "no",
             what_with_retries_does(answer, at, done),
             what_with_retries_does(answer, at, done, shrink_max_tokens=True,
                                    follow_fallbacks=True),
             call_class.advice]
            for call_class, (answer, at) in seen.items()]

    def cells(tag, row):
        return "".join(f"<{tag} style='text-align:left;vertical-align:top'>{html.escape(text)}"
                       f"</{tag}>" for text in row)

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><tr>{cells('th', head)}</tr>{body}</table>".replace("$", "&#36;")


def test_the_english_table_is_the_tutorials_table_as_it_was():
    seen, done = seen_answers(), success()
    table = retry_decision_table(seen, done)
    assert isinstance(table, RetryDecisionTable) and table.lang == "en"
    assert table._repr_html_() == reference_table(seen, done)
    rows = {row[0]: row for row in table.rows}
    assert rows[CallClass.IN_FLIGHT_BUDGET.label][2] == "wait Retry-After (120 s), then retry"
    assert rows[CallClass.AFFORDABILITY.label][3] == (
        f"retry once with max_tokens={int(AFFORD_M * 0.95)} (can only afford {AFFORD_M}), at once")


@pytest.mark.parametrize("lang", ["ja", "zh"])
def test_the_table_reads_in_the_language_in_force(lang, msgstr):
    set_language(lang)
    seen, done = seen_answers(), success()
    table = retry_decision_table(seen, done)
    assert table.lang == lang
    assert table.headers == (msgstr(lang, "answer"), msgstr(lang, "retryable"), "with_retries",
                             msgstr(lang, "with shrink_max_tokens and follow_fallbacks"),
                             msgstr(lang, "what to do"))
    rows = {row[0]: row for row in table.rows}
    in_flight = rows[msgstr(lang, CallClass.IN_FLIGHT_BUDGET.label)]
    wait = msgstr(lang, "wait {source}").format(source="Retry-After")
    assert in_flight[1:] == (
        msgstr(lang, "yes"),
        msgstr(lang, "{action} ({seconds} s), then retry").format(action=wait, seconds="120"),
        msgstr(lang, "{action} ({seconds} s), then retry").format(action=wait, seconds="120"),
        CallClass.IN_FLIGHT_BUDGET.advice_in(lang))
    weight = rows[msgstr(lang, CallClass.WEIGHT_EXCEEDS_BUDGET.label)]
    assert weight[1:3] == (msgstr(lang, "no"), msgstr(lang, "never: stops at once"))
    key = rows[msgstr(lang, CallClass.KEY_LIMIT.label)]
    assert key[2] == msgstr(lang, "never: stops at once, until {when}").format(
        when="2026-10-12 00:00 UTC")
    assert "never" not in str(table) and "retry once" not in str(table)


def test_the_text_form_lists_each_answer_with_its_columns():
    table = retry_decision_table(seen_answers(), success(), lang="en")
    blocks = str(table).split("\n\n")
    assert len(blocks) == len(table.rows) == 6
    assert blocks[0].splitlines() == [
        CallClass.IN_FLIGHT_BUDGET.label,
        "  retryable: yes",
        "  with_retries: wait Retry-After (120 s), then retry",
        "  with shrink_max_tokens and follow_fallbacks: wait Retry-After (120 s), then retry",
        f"  what to do: {MESSAGES.remedy_in_flight}",
    ]


def test_answers_alone_count_from_when_they_were_sent_and_bad_input_is_explained():
    weight = answer(402, WEIGHT_402)
    table = retry_decision_table([weight, success()], success())
    assert [row[2] for row in table.rows] == ["never: stops at once", "no retry needed"]
    with pytest.raises(ValueError, match=r"seen: expected answers \(CallResult\), or \(answer, "
                                         r"time\) pairs"):
        retry_decision_table({"x": ("not an answer", 1.0)}, success())
