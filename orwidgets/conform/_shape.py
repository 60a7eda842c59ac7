"""What two JSON answers have in common: their structure, their message templates.

Pure functions, no I/O. The structure of a JSON value is the set of its key paths with the JSON
types seen there (``data.limit`` -> ``{"number", "null"}``); a list contributes the union of its
items' structures under ``path[]``. Values are never compared here: ids, timestamps, token counts
and prices differ between any two answers, and that is not a difference of the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ..i18n import N_, Text, translate

__all__ = ["Shape", "ShapeDiff", "shape_of", "diff_shapes", "json_type", "types_text",
           "template", "compare_text"]

#: JSON type names, in the order they are listed.
_TYPE_ORDER = ("object", "array", "string", "number", "boolean", "null")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def json_type(value: Any) -> str:
    """The JSON type name of a parsed value (integers and floats are both ``number``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _child(path: str, key: str) -> str:
    step = key if _PLAIN_KEY.match(key) else '["' + key.replace('"', '\\"') + '"]'
    if not path:
        return step
    return path + step if step.startswith("[") else f"{path}.{step}"


@dataclass
class Shape:
    """Key paths of a JSON value and the types seen at each.

    Attributes
    ----------
    types:
        path -> JSON type names seen there (``""`` is the value itself, ``a[]`` the items of
        the array ``a``).
    parents:
        path -> the path it hangs under.
    empty_arrays:
        Paths where only empty arrays were seen: their items' structure is unknown, so nothing
        under them counts as missing.
    """

    types: dict[str, set[str]] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict)
    empty_arrays: set[str] = field(default_factory=set)


def shape_of(value: Any) -> Shape:
    """The structure of a parsed JSON value."""
    shape = Shape()
    arrays: set[str] = set()
    filled: set[str] = set()

    def walk(node: Any, path: str) -> None:
        kind = json_type(node)
        shape.types.setdefault(path, set()).add(kind)
        if kind == "object":
            for key, child in node.items():
                sub = _child(path, str(key))
                shape.parents[sub] = path
                walk(child, sub)
        elif kind == "array":
            arrays.add(path)
            sub = path + "[]"
            for item in node:
                filled.add(path)
                shape.parents[sub] = path
                walk(item, sub)

    walk(value, "")
    shape.empty_arrays = arrays - filled
    return shape


def types_text(types: set[str], lang: str = "en") -> str:
    """``{"string", "null"}`` -> ``"string or null"``; the type names are JSON's in every
    language, the words between them are ``lang``'s."""
    ordered = [t for t in _TYPE_ORDER if t in types] + sorted(types - set(_TYPE_ORDER))
    if not ordered:
        return translate(N_("nothing"), lang)
    text = ordered[0]
    for name in ordered[1:]:
        text = Text(N_("{first} or {second}"), first=text, second=name).render(lang)
    return text


@dataclass(frozen=True)
class ShapeDiff:
    """One path where two structures differ.

    ``kind`` is ``"only_real"`` (the path exists only in the real answer), ``"only_emulator"``,
    or ``"type"`` (both have it, with different non-null types).
    """

    path: str
    kind: Literal["only_real", "only_emulator", "type"]
    real: frozenset[str]
    emulator: frozenset[str]


def _absence_counts(shape: Shape, path: str, parent: str | None) -> bool:
    """Whether ``path`` missing from ``shape`` is news, and not explained by its parent.

    A path under a parent that is itself missing, ``null``, of another type, or an empty array,
    is not reported: the parent's own line (or nothing, for null and empty) says it already.
    """
    if parent is None:
        return True
    parent_types = shape.types.get(parent)
    if parent_types is None:
        return False
    if path.endswith("[]"):
        return "array" in parent_types and parent not in shape.empty_arrays
    return "object" in parent_types


def diff_shapes(real: Shape, emulator: Shape) -> list[ShapeDiff]:
    """Paths whose presence or (non-null) type differs, outermost first in document order.

    ``null`` is compatible with every type: a field that is ``null`` on one account and a string
    on another (``expires_at``, ``limit``) is the same field. [inv]
    """
    parents = {**emulator.parents, **real.parents}
    order = list(real.types) + [p for p in emulator.types if p not in real.types]
    diffs: list[ShapeDiff] = []
    for path in order:
        r, e = real.types.get(path), emulator.types.get(path)
        parent = parents.get(path)
        if e is None:
            if _absence_counts(emulator, path, parent):
                diffs.append(ShapeDiff(path, "only_real", frozenset(r or ()), frozenset()))
        elif r is None:
            if _absence_counts(real, path, parent):
                diffs.append(ShapeDiff(path, "only_emulator", frozenset(), frozenset(e)))
        else:
            rn, en = r - {"null"}, e - {"null"}
            if rn and en and rn != en:
                diffs.append(ShapeDiff(path, "type", frozenset(r), frozenset(e)))
    return diffs


# --- message templates ----------------------------------------------------------------------------

#: What varies between two answers of the same kind, masked in this order (URLs before model ids,
#: since a URL contains slashes; ids before numbers, since ids contain digits).
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"https?://[^\s\"'<>]*[^\s\"'<>.,;:!?)]"), "<url>"),
    (re.compile(r"sk-or-[\w.-]+"), "<key>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
     "<id>"),
    (re.compile(r"\b(?:user|gen|acct|org|req)[_-][\w-]+"), "<id>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"),
     "<time>"),
    (re.compile(r"(?<![\w/])[A-Za-z0-9][\w.-]*/[\w.-]+(?::[\w.-]+)?"), "<model>"),
    (re.compile(r"\b[0-9a-fA-F]{16,}\b"), "<id>"),
    (re.compile(r"\$?\d[\d,]*(?:\.\d+)?"), "<n>"),
)


def template(text: str) -> str:
    """``text`` with URLs, keys, ids, times, model ids and numbers masked."""
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


def compare_text(real: str, emulator: str) -> Literal["exact", "same template", "different text"]:
    """How two texts compare: equal, equal once the variable parts are masked, or not.

    Only ``different text`` is a difference: the same template with other numbers is the same
    message about another account. [inv]
    """
    if real == emulator:
        return "exact"
    if template(real) == template(emulator):
        return "same template"
    return "different text"
