"""Compare the real answer and the emulator's answer to one probe, in sentences."""

from __future__ import annotations

import re

from ..i18n import N_, Text, translate
from ._probe import Answer, Probe, shown
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


def _quote(text: str | None, limit: int = 200, lang: str = "en") -> str:
    """A text the target sent, in ASCII quotes (it is quoted as it came, in every language)."""
    if text is None:
        return translate(N_("nothing"), lang)
    cut = text if len(text) <= limit else text[: limit - 3] + "..."
    return '"' + cut + '"'


def _status_text(answer: Answer, lang: str = "en") -> str:
    if answer.status is None:
        return Text(N_("no answer ({error})"), error=answer.error).render(lang)
    text = str(answer.status)
    if answer.message is not None:
        text += f" {_quote(answer.message, 120)}"
    return text


def _shape_sentence(label: str, diff: ShapeDiff, lang: str) -> str:
    where = "`" + (diff.path or translate(N_("the body"), lang)) + "`"
    real, emulator = types_text(set(diff.real), lang), types_text(set(diff.emulator), lang)
    if diff.kind == "only_real":
        text = Text(N_("`{label}`: the real answer has {where} ({types}), the emulator has none"),
                    label=label, where=where, types=real)
    elif diff.kind == "only_emulator":
        text = Text(N_("`{label}`: the emulator has {where} ({types}), the real answer has none"),
                    label=label, where=where, types=emulator)
    else:
        text = Text(N_("`{label}`: {where} is {real} in the real answer, {emulator} in the "
                       "emulator's"), label=label, where=where, real=real, emulator=emulator)
    return text.render(lang)


def _shape_differences(probe: str, label: str, real: Answer, emulator: Answer,
                       lang: str) -> list[Difference]:
    found = []
    for diff in diff_shapes(shape_of(real.body), shape_of(emulator.body)):
        kind = "metadata" if diff.path == _METADATA or diff.path.startswith(_METADATA + ".") \
            or diff.path.startswith(_METADATA + "[") else "structure"
        found.append(Difference(
            probe, kind, diff.path,
            types_text(set(diff.real)) if diff.real else None,
            types_text(set(diff.emulator)) if diff.emulator else None,
            _shape_sentence(label, diff, lang),
        ))
    return found


def _metadata_values(probe: str, label: str, real: Answer, emulator: Answer,
                     lang: str) -> list[Difference]:
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
                probe, "metadata", f"{_METADATA}.{key}", value, other,
                Text(N_("`{label}`: `{path}` differs: the real answer says {real}, the emulator "
                        "says {emulator}"), label=label, path=f"{_METADATA}.{key}",
                     real=_quote(value), emulator=_quote(other)).render(lang),
            ))
    return found


def _header_differences(probe: str, label: str, real: Answer, emulator: Answer,
                        lang: str) -> list[Difference]:
    real_names = {n.lower() for n in real.headers if LIMIT_HEADERS.match(n)}
    emu_names = {n.lower() for n in emulator.headers if LIMIT_HEADERS.match(n)}
    found = []
    for name in sorted(real_names - emu_names):
        header = _header_name(name)
        found.append(Difference(probe, "header", header, "present", None, Text(
            N_("`{label}`: the real answer sends the `{header}` header, the emulator's does not"),
            label=label, header=header).render(lang)))
    for name in sorted(emu_names - real_names):
        header = _header_name(name)
        found.append(Difference(probe, "header", header, None, "present", Text(
            N_("`{label}`: the emulator sends the `{header}` header, the real answer does not"),
            label=label, header=header).render(lang)))
    return found


def _not_json(label: str, real_side: bool, answer: Answer, lang: str) -> str:
    """``the real answer is not JSON (...); the emulator's is``, or the other way round."""
    kind = answer.content_type.split(";")[0].strip() or translate(N_("no content type"), lang)
    excerpt = ""
    if answer.excerpt:
        excerpt = Text(N_(", starting {excerpt}"),
                       excerpt=_quote(answer.excerpt, 80)).render(lang)
    if real_side:
        text = Text(N_("`{label}`: the real answer is not JSON ({kind}, {size} bytes{excerpt}); "
                       "the emulator's is"), label=label, kind=kind, size=answer.size,
                    excerpt=excerpt)
    else:
        text = Text(N_("`{label}`: the emulator's answer is not JSON ({kind}, {size} "
                       "bytes{excerpt}); the real one is"), label=label, kind=kind,
                    size=answer.size, excerpt=excerpt)
    return text.render(lang)


def compare(probe: Probe, real: Answer, emulator: Answer, lang: str = "en") -> ProbeReport:
    """What differs between the two answers to ``probe``, said in ``lang``.

    The status first: when it differs, the two bodies are answers of different kinds and
    comparing them further would only repeat it [inv]. Otherwise the JSON structure,
    ``error.message`` (exact or same template), ``error.metadata`` and the rate-limit headers.
    The fields of each :class:`Difference` but ``text`` are English (data); ``text`` is ``lang``'s.
    """
    name, label = probe.label, shown(probe.label, lang)
    report = ProbeReport(probe.id, name, real.status, emulator.status, lang=lang)
    found = report.differences
    if real.status != emulator.status:
        found.append(Difference(
            name, "status", None, _status_text(real), _status_text(emulator),
            Text(N_("`{label}`: the real answer is {real}, the emulator's is {emulator}"),
                 label=label, real=_status_text(real, lang),
                 emulator=_status_text(emulator, lang)).render(lang),
        ))
        return report
    if real.status is None:  # neither answered: said by the report's error line
        return report
    if real.is_json != emulator.is_json:
        answer = real if not real.is_json else emulator
        found.append(Difference(name, "body", None,
                                "JSON" if real.is_json else "not JSON",
                                "JSON" if emulator.is_json else "not JSON",
                                _not_json(label, not real.is_json, answer, lang)))
        found += _header_differences(name, label, real, emulator, lang)
        return report
    try:
        found += _shape_differences(name, label, real, emulator, lang)
    except RecursionError:
        found.append(Difference(name, "body", None, None, None, Text(
            N_("`{label}`: a body is nested too deeply to compare"), label=label).render(lang)))
    if real.message is not None and emulator.message is not None:
        report.message = compare_text(real.message, emulator.message)
        if report.message == "different text":
            found.append(Difference(
                name, "message", "error.message", real.message, emulator.message,
                Text(N_("`{label}`: `error.message` differs: the real answer says {real}, the "
                        "emulator says {emulator}"), label=label, real=_quote(real.message),
                     emulator=_quote(emulator.message)).render(lang),
            ))
    found += _metadata_values(name, label, real, emulator, lang)
    found += _header_differences(name, label, real, emulator, lang)
    return report
