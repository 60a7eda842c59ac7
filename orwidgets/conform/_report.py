"""The report: what differs per probe, as sentences, as text, as HTML and as JSON."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Difference", "ProbeReport", "AccountShape", "Report", "EXIT_SAME", "EXIT_DIFFERENT",
           "EXIT_ERROR"]

#: Exit status: nothing differs / something differs / usage error or target unreachable.
EXIT_SAME, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2


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

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "real_status": self.real_status,
                "emulator_status": self.emulator_status, "message": self.message,
                "differences": [d.to_json() for d in self.differences]}

    def headline(self) -> str:
        real = "no answer" if self.real_status is None else str(self.real_status)
        emu = "no answer" if self.emulator_status is None else str(self.emulator_status)
        line = f"{self.label}: real {real}, emulator {emu}"
        if self.message is not None:
            line += f"; error.message: {self.message}"
        if not self.differences:
            line += "; no difference"
        return line


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
        return (f"balance ${self.balance_usd:,.2f}, purchased ${self.purchased_usd:,.2f}, "
                f"{'a' if self.management else 'no'} management key")


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
        if self.error is not None:
            return f"no comparison: {self.error}"
        count = len(self.differences)
        if count == 0:
            return (f"No difference: the emulator ({self.policy}) answers like {self.target} "
                    f"on {len(self.probes)} probe{'s' if len(self.probes) != 1 else ''}.")
        probes = sum(1 for p in self.probes if p.differences)
        return (f"{count} difference{'s' if count != 1 else ''} in {probes} of "
                f"{len(self.probes)} probes between {self.target} and the emulator "
                f"({self.policy}).")

    def _intro(self) -> list[str]:
        alias = f" ('{self.policy_requested}')" if self.policy_requested != self.policy else ""
        lines = [f"orwidgets conform: {self.target} vs the emulator, policy {self.policy}{alias}",
                 f"calls to the target: {self.calls} of at most {self.max_calls}"]
        if self.account is not None:
            lines.append(f"emulator account: {self.account}")
            lines += [f"  - {note}" for note in self.inferred]
        for side in ("real", "emulator"):
            chosen = self.models.get(side)
            if chosen:
                lines.append(f"models ({side}): free {chosen['free']}, paid {chosen['paid']}")
        return lines

    def __str__(self) -> str:
        lines = self._intro()
        lines.append("")
        for probe in self.probes:
            lines.append(probe.headline())
            lines += [f"  - {d.text}" for d in probe.differences]
        if self.skipped:
            lines.append(f"skipped (over --max-calls {self.max_calls}): " + "; ".join(self.skipped))
        lines.append("")
        lines.append(self.summary())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<div>{esc(line)}</div>" for line in self._intro())
        rows = []
        for probe in self.probes:
            items = "".join(f"<li>{esc(d.text)}</li>" for d in probe.differences)
            rows.append(
                f"<tr><td><code>{esc(probe.label)}</code></td>"
                f"<td>{esc(str(probe.real_status or 'no answer'))}</td>"
                f"<td>{esc(str(probe.emulator_status or 'no answer'))}</td>"
                f"<td>{esc(probe.message or '')}</td>"
                f"<td>{'<ul>' + items + '</ul>' if items else 'no difference'}</td></tr>"
            )
        skipped = (f"<div>skipped (over max_calls {self.max_calls}): "
                   f"{esc('; '.join(self.skipped))}</div>" if self.skipped else "")
        colour = {EXIT_SAME: "#2e7d32", EXIT_DIFFERENT: "#b26a00", EXIT_ERROR: "#c62828"}
        return (
            '<div class="orwidgets-conform">' + head
            + "<table><tr><th>probe</th><th>real</th><th>emulator</th><th>error.message</th>"
            + "<th>differences</th></tr>" + "".join(rows) + "</table>" + skipped
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
