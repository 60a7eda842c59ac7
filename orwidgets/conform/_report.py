"""The report: what differs per probe, as sentences, as text, as HTML and as JSON.

A report is made in one language (``lang``: English unless the caller or
:func:`orwidgets.set_language` chose another): its sentences, the text and the HTML read in it.
Ids, kinds, paths, statuses, probe labels and OpenRouter's messages in the JSON stay as they are.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from ..i18n import N_, Text, translate
from ._probe import shown

__all__ = ["Difference", "ProbeReport", "AccountShape", "Report", "EXIT_SAME", "EXIT_DIFFERENT",
           "EXIT_ERROR"]

#: Exit status: nothing differs / something differs / usage error or target unreachable.
EXIT_SAME, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2
#: The columns of the HTML table (``error.message`` is the JSON path: the same in every language).
_HTML_HEADERS = (N_("probe"), N_("real"), N_("emulator"), "error.message", N_("differences"))


@dataclass(frozen=True)
class Difference:
    """One thing the real answer and the emulator's answer do not share.

    Attributes
    ----------
    probe:
        The probe's label (``GET /key``).
    kind:
        ``status``, ``body`` (one side is not JSON or did not answer), ``structure`` (a key path
        or its type), ``metadata`` (``error.metadata``: its keys, their types, its string values),
        ``message`` (``error.message``) or ``header`` (``X-RateLimit-*``, ``Retry-After``).
    path:
        The JSON path or header name concerned, if any.
    real, emulator:
        What each side has there, in words (a type, a status, a text); ``None``: nothing.
    text:
        The sentence for a developer.
    """

    probe: str
    kind: str
    path: str | None
    real: str | None
    emulator: str | None
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "real": self.real,
                "emulator": self.emulator, "text": self.text}


@dataclass
class ProbeReport:
    """One probe, both answers, and what differs."""

    id: str
    label: str
    real_status: int | None = None
    emulator_status: int | None = None
    message: str | None = None  # "exact" | "same template" | "different text" | None
    differences: list[Difference] = field(default_factory=list)
    lang: str = field(default="en", compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "real_status": self.real_status,
                "emulator_status": self.emulator_status, "message": self.message,
                "differences": [d.to_json() for d in self.differences]}

    def headline(self) -> str:
        lang = self.lang
        real, emu = _status(self.real_status, lang), _status(self.emulator_status, lang)
        line = Text(N_("{probe}: real {real}, emulator {emulator}"), probe=shown(self.label, lang),
                    real=real, emulator=emu).render(lang)
        if self.message is not None:
            line += Text(N_("; error.message: {comparison}"),
                         comparison=_comparison(self.message, lang)).render(lang)
        if not self.differences:
            line += translate(N_("; no difference"), lang)
        return line


#: How ``error.message`` compared (the JSON's values), as the reader sees it. English shows the
#: value itself; "exact match" is the msgid because the RPS rule "exact" (policy) means another
#: thing in the other languages.
_COMPARISONS = {"exact": Text(N_("exact match"), english="exact"),
                "same template": Text(N_("same template")),
                "different text": Text(N_("different text"))}


def _comparison(value: str, lang: str) -> str:
    return _COMPARISONS[value].render(lang) if value in _COMPARISONS else value


def _status(status: int | None, lang: str) -> str:
    return translate(N_("no answer"), lang) if status is None else str(status)


@dataclass(frozen=True)
class AccountShape:
    """The emulator account made to look like the probed one where the plan can tell."""

    balance_usd: float
    purchased_usd: float
    management: bool

    def to_json(self) -> dict[str, Any]:
        return {"balance_usd": self.balance_usd, "purchased_usd": self.purchased_usd,
                "management": self.management}

    def __str__(self) -> str:
        return self.text("en")

    def text(self, lang: str) -> str:
        """The account in words, in ``lang``."""
        if self.management:
            template = N_("balance {balance}, purchased {purchased}, a management key")
        else:
            template = N_("balance {balance}, purchased {purchased}, no management key")
        return Text(template, balance=f"${self.balance_usd:,.2f}",
                    purchased=f"${self.purchased_usd:,.2f}").render(lang)


@dataclass
class Report:
    """The result of :func:`orwidgets.conform.check`.

    ``str(report)`` is the text the CLI prints; in a notebook the report renders as a table.
    It never holds the key: every text the target sent back had the key replaced before it got
    here.

    Attributes
    ----------
    target:
        The API base that was probed.
    policy:
        The emulator's policy version (dated id); ``policy_requested`` is what was asked for
        (``current`` is an alias).
    probes:
        One :class:`ProbeReport` per probe sent, in plan order.
    skipped:
        Labels of the probes ``max_calls`` cut.
    calls:
        Requests sent to the target.
    account, inferred:
        The emulator account and how its numbers were read from the target's answers.
    models:
        ``{"real": {"free", "paid"}, "emulator": {...}}``: the models the chat probes used.
    error:
        Why the comparison could not be made (unreachable, key refused, not confirmed, no key);
        ``None`` when it was.
    lang:
        The language of the sentences (``error``, ``inferred``, each difference's ``text``) and
        of the text and HTML.
    """

    target: str
    policy: str
    policy_requested: str
    max_calls: int
    plan: list[str] = field(default_factory=list)
    probes: list[ProbeReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    calls: int = 0
    account: AccountShape | None = None
    inferred: list[str] = field(default_factory=list)
    models: dict[str, dict[str, str]] = field(default_factory=dict)
    error: str | None = None
    lang: str = "en"

    @property
    def differences(self) -> list[Difference]:
        return [d for p in self.probes for d in p.differences]

    @property
    def exit_code(self) -> int:
        """0: nothing differs; 1: something differs; 2: no comparison could be made."""
        if self.error is not None:
            return EXIT_ERROR
        return EXIT_DIFFERENT if self.differences else EXIT_SAME

    @property
    def ok(self) -> bool:
        """True when the comparison ran and found no difference."""
        return self.exit_code == EXIT_SAME

    def __repr__(self) -> str:
        return (f"Report(target={self.target!r}, policy={self.policy!r}, "
                f"exit_code={self.exit_code}, differences={len(self.differences)}, "
                f"calls={self.calls}, error={self.error!r})")

    def summary(self) -> str:
        lang = self.lang
        if self.error is not None:
            return Text(N_("no comparison: {error}"), error=self.error).render(lang)
        count, total = len(self.differences), len(self.probes)
        if count == 0:
            return Text.ngettext(
                "No difference: the emulator ({policy}) answers like {target} on {n} probe.",
                "No difference: the emulator ({policy}) answers like {target} on {n} probes.",
                total, policy=self.policy, target=self.target, n=total).render(lang)
        probes = sum(1 for p in self.probes if p.differences)
        return Text.ngettext(
            "{n} difference in {probes} of {total} probes between {target} and the emulator "
            "({policy}).",
            "{n} differences in {probes} of {total} probes between {target} and the emulator "
            "({policy}).",
            count, n=count, probes=probes, total=total, target=self.target,
            policy=self.policy).render(lang)

    def _intro(self) -> list[str]:
        lang = self.lang
        if self.policy_requested != self.policy:
            first = Text(N_("orwidgets conform: {target} vs the emulator, policy {policy} "
                            "('{alias}')"), target=self.target, policy=self.policy,
                         alias=self.policy_requested)
        else:
            first = Text(N_("orwidgets conform: {target} vs the emulator, policy {policy}"),
                         target=self.target, policy=self.policy)
        lines = [first.render(lang),
                 Text(N_("calls to the target: {calls} of at most {max_calls}"),
                      calls=self.calls, max_calls=self.max_calls).render(lang)]
        if self.account is not None:
            lines.append(Text(N_("emulator account: {account}"),
                              account=self.account.text(lang)).render(lang))
            lines += [f"  - {note}" for note in self.inferred]
        for side, template in (("real", N_("models (real): free {free}, paid {paid}")),
                               ("emulator", N_("models (emulator): free {free}, paid {paid}"))):
            chosen = self.models.get(side)
            if chosen:
                lines.append(Text(template, free=chosen["free"], paid=chosen["paid"])
                             .render(lang))
        return lines

    def _skipped(self, flag: str) -> str:
        return Text(N_("skipped (over {flag} {max_calls}): {probes}"), flag=flag,
                    max_calls=self.max_calls,
                    probes="; ".join(shown(label, self.lang) for label in self.skipped),
                    ).render(self.lang)

    def __str__(self) -> str:
        lines = self._intro()
        lines.append("")
        for probe in self.probes:
            lines.append(probe.headline())
            lines += [f"  - {d.text}" for d in probe.differences]
        if self.skipped:
            lines.append(self._skipped("--max-calls"))
        lines.append("")
        lines.append(self.summary())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        lang = self.lang
        head = "".join(f"<div>{esc(line)}</div>" for line in self._intro())
        rows = []
        for probe in self.probes:
            items = "".join(f"<li>{esc(d.text)}</li>" for d in probe.differences)
            nothing = esc(translate(N_("no difference"), lang))
            rows.append(
                f"<tr><td><code>{esc(shown(probe.label, lang))}</code></td>"
                f"<td>{esc(_status(probe.real_status or None, lang))}</td>"
                f"<td>{esc(_status(probe.emulator_status or None, lang))}</td>"
                f"<td>{esc(_comparison(probe.message, lang) if probe.message else '')}</td>"
                f"<td>{'<ul>' + items + '</ul>' if items else nothing}</td></tr>"
            )
        skipped = f"<div>{esc(self._skipped('max_calls'))}</div>" if self.skipped else ""
        colour = {EXIT_SAME: "#2e7d32", EXIT_DIFFERENT: "#b26a00", EXIT_ERROR: "#c62828"}
        headers = "".join(f"<th>{esc(translate(name, lang))}</th>" for name in _HTML_HEADERS)
        return (
            '<div class="orwidgets-conform">' + head
            + "<table><tr>" + headers + "</tr>" + "".join(rows) + "</table>" + skipped
            + f'<div style="color:{colour[self.exit_code]}"><b>{esc(self.summary())}</b></div>'
            + "</div>"
        )

    def to_json(self) -> dict[str, Any]:
        """The machine-readable report (``--json``): the same facts as the text."""
        return {
            "target": self.target,
            "policy": self.policy,
            "policy_requested": self.policy_requested,
            "exit_code": self.exit_code,
            "error": self.error,
            "calls": self.calls,
            "max_calls": self.max_calls,
            "plan": list(self.plan),
            "skipped": list(self.skipped),
            "account": self.account.to_json() if self.account else None,
            "inferred": list(self.inferred),
            "models": self.models,
            "probes": [p.to_json() for p in self.probes],
            "differences": len(self.differences),
            "summary": self.summary(),
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)
