"""Compare the real answer and the emulator's answer to one probe, in sentences."""

from __future__ import annotations

import re

from ._probe import Answer, Probe
from ._report import Difference, ProbeReport
from ._shape import ShapeDiff, compare_text, diff_shapes, shape_of, types_text

__all__ = ["compare", "LIMIT_HEADERS"]

#: Headers whose presence is compared (names, case-insensitive). Their values are not compared:
#: reset times and remaining counts differ on every call.
LIMIT_HEADERS = re.compile(r"^(x-ratelimit-.*|retry-after)$", re.IGNORECASE)
_METADATA = "error.metadata"

#: How header names are written in sentences (``x-ratelimit-reset`` -> ``X-RateLimit-Reset``).
_CANONICAL = {"x-ratelimit-": "X-RateLimit-", "retry-after": "Retry-After"}


def _header_name(name: str) -> str:
    lower = name.lower()
    for prefix, spelled in _CANONICAL.items():
        if lower.startswith(prefix):
            return spelled + "-".join(p.capitalize() for p in lower[len(prefix):].split("-") if p)
    return name


def _quote(text: str | None, limit: int = 200) -> str:
    if text is None:
        return "nothing"
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return '"' + shown + '"'


def _status_text(answer: Answer) -> str:
    if answer.status is None:
        return f"no answer ({answer.error})"
    text = str(answer.status)
    if answer.message is not None:
        text += f" {_quote(answer.message, 120)}"
    return text


def _shape_sentence(label: str, diff: ShapeDiff) -> str:
    where = "`" + (diff.path or "the body") + "`"
    if diff.kind == "only_real":
        return (f"`{label}`: the real answer has {where} ({types_text(set(diff.real))}), "
                "the emulator has none")
    if diff.kind == "only_emulator":
        return (f"`{label}`: the emulator has {where} ({types_text(set(diff.emulator))}), "
                "the real answer has none")
    return (f"`{label}`: {where} is {types_text(set(diff.real))} in the real answer, "
            f"{types_text(set(diff.emulator))} in the emulator's")


def _shape_differences(label: str, real: Answer, emulator: Answer) -> list[Difference]:
    found = []
    for diff in diff_shapes(shape_of(real.body), shape_of(emulator.body)):
        kind = "metadata" if diff.path == _METADATA or diff.path.startswith(_METADATA + ".") \
            or diff.path.startswith(_METADATA + "[") else "structure"
        found.append(Difference(
            label, kind, diff.path,
            types_text(set(diff.real)) if diff.real else None,
            types_text(set(diff.emulator)) if diff.emulator else None,
            _shape_sentence(label, diff),
        ))
    return found


def _metadata_values(label: str, real: Answer, emulator: Answer) -> list[Difference]:
    """String values of ``error.metadata`` (``limit_source``, ``remedy_hint``, ``reason``...).

    Clients branch on them, so a different text is a difference; numbers, ids and URLs in them
    are masked as in messages.
    """
    found = []
    real_meta, emu_meta = real.metadata or {}, emulator.metadata or {}
    for key, value in real_meta.items():
        other = emu_meta.get(key)
        if isinstance(value, str) and isinstance(other, str) \
                and compare_text(value, other) == "different text":
            found.append(Difference(
                label, "metadata", f"{_METADATA}.{key}", value, other,
                f"`{label}`: `{_METADATA}.{key}` differs: the real answer says {_quote(value)}, "
                f"the emulator says {_quote(other)}",
            ))
    return found


def _header_differences(label: str, real: Answer, emulator: Answer) -> list[Difference]:
    real_names = {n.lower() for n in real.headers if LIMIT_HEADERS.match(n)}
    emu_names = {n.lower() for n in emulator.headers if LIMIT_HEADERS.match(n)}
    found = []
    for name in sorted(real_names - emu_names):
        shown = _header_name(name)
        found.append(Difference(label, "header", shown, "present", None,
                                f"`{label}`: the real answer sends the `{shown}` header, "
                                "the emulator's does not"))
    for name in sorted(emu_names - real_names):
        shown = _header_name(name)
        found.append(Difference(label, "header", shown, None, "present",
                                f"`{label}`: the emulator sends the `{shown}` header, "
                                "the real answer does not"))
    return found


def _not_json(label: str, side: str, answer: Answer) -> str:
    kind = answer.content_type.split(";")[0].strip() or "no content type"
    excerpt = f", starting {_quote(answer.excerpt, 80)}" if answer.excerpt else ""
    return f"the {side} answer is not JSON ({kind}, {answer.size} bytes{excerpt})"


def compare(probe: Probe, real: Answer, emulator: Answer) -> ProbeReport:
    """What differs between the two answers to ``probe``.

    The status first: when it differs, the two bodies are answers of different kinds and
    comparing them further would only repeat it [inv]. Otherwise the JSON structure,
    ``error.message`` (exact or same template), ``error.metadata`` and the rate-limit headers.
    """
    label = probe.label
    report = ProbeReport(probe.id, label, real.status, emulator.status)
    found = report.differences
    if real.status != emulator.status:
        found.append(Difference(
            label, "status", None, _status_text(real), _status_text(emulator),
            f"`{label}`: the real answer is {_status_text(real)}, "
            f"the emulator's is {_status_text(emulator)}",
        ))
        return report
    if real.status is None:  # neither answered: said by the report's error line
        return report
    if real.is_json != emulator.is_json:
        side, answer = ("real", real) if not real.is_json else ("emulator's", emulator)
        other = "the emulator's is" if not real.is_json else "the real one is"
        found.append(Difference(label, "body", None,
                                "JSON" if real.is_json else "not JSON",
                                "JSON" if emulator.is_json else "not JSON",
                                f"`{label}`: {_not_json(label, side, answer)}; {other}"))
        found += _header_differences(label, real, emulator)
        return report
    try:
        found += _shape_differences(label, real, emulator)
    except RecursionError:
        found.append(Difference(label, "body", None, None, None,
                                f"`{label}`: a body is nested too deeply to compare"))
    if real.message is not None and emulator.message is not None:
        report.message = compare_text(real.message, emulator.message)
        if report.message == "different text":
            found.append(Difference(
                label, "message", "error.message", real.message, emulator.message,
                f"`{label}`: `error.message` differs: the real answer says "
                f"{_quote(real.message)}, the emulator says {_quote(emulator.message)}",
            ))
    found += _metadata_values(label, real, emulator)
    found += _header_differences(label, real, emulator)
    return report
