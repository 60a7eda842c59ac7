"""What the retry helper does with each kind of answer, as a table for people.

:func:`retry_decision_table` hands :func:`~orwidgets.client.with_retries` each answer in turn, then
a success, on a clock stopped at the moment the answer came (no jitter, nothing waits), and writes
down what the helper did: with its default options, and with the two options that change the
request (``shrink_max_tokens``, ``follow_fallbacks``). The class of each answer says whether
waiting can help and what to do. Headers, class labels and sentences are in the reader's language;
the helper's decision itself is the same in every language.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..i18n import N_, Text, get_language, translate
from ._classify import CallClass, CallResult
from ._retry import RetryAttempt, RetryGaveUp, with_retries

__all__ = ["RetryDecisionTable", "retry_decision_table", "HEADERS"]

#: The columns, in order (marked for the catalogues; shown in the table's language).
HEADERS: tuple[str, ...] = (
    N_("answer"),
    N_("retryable"),
    "with_retries",  # the helper's own name: code, in every language
    N_("with shrink_max_tokens and follow_fallbacks"),
    N_("what to do"),
)
_YES, _NO = N_("yes"), N_("no")
_CELL_STYLE = "text-align:left;vertical-align:top"


@dataclass(frozen=True)
class RetryDecisionTable:
    """Rows of text (one per answer) under :data:`HEADERS`, in ``lang``.

    A notebook shows it as an HTML table (``_repr_html_``); ``str()`` gives the same content as
    plain text, one block per answer.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lang: str

    def _repr_html_(self) -> str:
        def cells(tag: str, row: Sequence[str]) -> str:
            return "".join(f"<{tag} style='{_CELL_STYLE}'>{html.escape(text)}</{tag}>"
                           for text in row)

        body = "".join(f"<tr>{cells('td', row)}</tr>" for row in self.rows)
        # A pair of "$" in a notebook's HTML output is typeset as math: never let it pair.
        return f"<table><tr>{cells('th', self.headers)}</tr>{body}</table>".replace("$", "&#36;")

    def __str__(self) -> str:
        blocks = []
        for row in self.rows:
            lines = [row[0]]
            lines += [f"  {head}: {text}" for head, text in zip(self.headers[1:], row[1:])]
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def _what_the_helper_does(answer: CallResult, at: float, success: Any, lang: str,
                          **options: Any) -> str:
    """Hand the helper ``answer``, then ``success``, on a clock stopped at ``at``."""
    answers = iter([answer])
    waits: list[float] = []
    steps: list[RetryAttempt] = []
    try:
        with_retries(lambda **changes: next(answers, success), clock=lambda: at, jitter=0,
                     sleep=waits.append, on_retry=steps.append, **options)
    except RetryGaveUp as stop:
        if stop.until is None:
            return translate(N_("never: stops at once"), lang)
        return Text(N_("never: stops at once, until {when}"),
                    when=f"{stop.until:%Y-%m-%d %H:%M} UTC").render(lang)
    if not steps:  # the answer was a success: nothing to decide
        return translate(N_("no retry needed"), lang)
    action = steps[0].action_in(lang)
    if waits:
        return Text(N_("{action} ({seconds} s), then retry"), action=action,
                    seconds=f"{waits[0]:.0f}").render(lang)
    return Text(N_("{action}, at once"), action=action).render(lang)


def _answers(seen: Mapping[Any, Any] | Iterable[Any]) -> list[tuple[CallResult, float]]:
    values = seen.values() if isinstance(seen, Mapping) else seen
    found = []
    for value in values:
        if isinstance(value, CallResult):
            found.append((value, value.sent_at))
        elif (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], CallResult)
              and isinstance(value[1], (int, float)) and not isinstance(value[1], bool)):
            found.append((value[0], float(value[1])))
        else:
            raise ValueError(
                "seen: expected answers (CallResult), or (answer, time) pairs where time is the "
                f"Unix seconds the answer came at, got {value!r}"
            )
    return found


def retry_decision_table(
    seen: Mapping[Any, Any] | Iterable[Any],
    success: Any,
    *,
    lang: str | None = None,
) -> RetryDecisionTable:
    """What to retry, after how long, and what never: one row per answer in ``seen``.

    Parameters
    ----------
    seen:
        The answers, in the order the rows should have: a mapping whose values are
        ``(answer, time)`` pairs (``{call_class: (result, clock.now())}``, as the tutorial
        collects them) or answers alone, or an iterable of either. ``time`` is when the answer
        came (Unix seconds; an answer alone: its ``sent_at``): waits such as "until 00:00 UTC"
        count from it.
    success:
        What the call returns once retried (the helper stops there): any successful answer.
    lang:
        The table's language (the language in force when ``None``: see
        :func:`orwidgets.i18n.get_language`).
    """
    lang = get_language(lang)
    rows = []
    for answer, at in _answers(seen):
        call_class: CallClass = answer.call_class
        rows.append((
            call_class.label_in(lang),
            translate(_YES if call_class.retryable else _NO, lang),
            _what_the_helper_does(answer, at, success, lang),
            _what_the_helper_does(answer, at, success, lang, shrink_max_tokens=True,
                                  follow_fallbacks=True),
            call_class.advice_in(lang),
        ))
    headers = tuple(translate(head, lang) if head != "with_retries" else head for head in HEADERS)
    return RetryDecisionTable(headers, tuple(rows), lang)
