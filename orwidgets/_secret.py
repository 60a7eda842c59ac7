"""API keys as secrets: a wrapper whose repr, str and pickling never show the value."""

from __future__ import annotations

import os

__all__ = ["SecretKey", "key_from_env", "mask"]


def mask(key: str | None) -> str:
    """``sk-or-v1-abc...xyz`` style, as OpenRouter labels keys; never more than 3+3 characters."""
    if not key:
        return "<no key>"
    if key.startswith("sk-or-v1-") and len(key) > 18:
        return f"sk-or-v1-{key[9:12]}...{key[-3:]}"
    return "<hidden key>"


class SecretKey:
    """Holds an API key in Python memory only.

    ``repr``/``str`` show a masked form; the value is read with :meth:`reveal` at the point of
    use (the ``Authorization`` header) and nowhere else. It refuses to be pickled so that it cannot
    end up in a saved state by accident.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise ValueError("api_key: expected a string")
        value = value.strip()
        if not value:
            raise ValueError("api_key: the key is empty")
        self._value = value

    def reveal(self) -> str:
        return self._value

    @property
    def masked(self) -> str:
        return mask(self._value)

    def __repr__(self) -> str:
        return f"SecretKey({self.masked})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("SecretKey", self._value))

    def __reduce__(self):  # pragma: no cover - guarded behaviour
        raise TypeError("SecretKey cannot be pickled: API keys stay in memory")


def key_from_env(name: str = "OPENROUTER_API_KEY") -> SecretKey | None:
    """The key from the environment, if set and non-empty."""
    value = os.environ.get(name, "").strip()
    return SecretKey(value) if value else None
