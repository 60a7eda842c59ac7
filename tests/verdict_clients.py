"""Three clients of one scenario, for the end-to-end verdict tests (imported by name).

Each is a script that makes its calls one after another and ends at the first error that
escapes it, as a script does:

* :func:`naive`: retries any error at once, three times;
* :func:`sdk`: the ``openai`` SDK with its own retries (``max_retries=2``), its waits taken on
  the emulator's clock instead of the wall's (:class:`SdkOnEmulatorTime`);
* :func:`retrying`: ``with_retries`` driven by the emulator's clock, as the README says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai

from orwidgets.client import RetryGaveUp, with_retries

NAIVE_RETRIES = 3
SDK_RETRIES = 2


class SdkOnEmulatorTime(openai.OpenAI):
    """The SDK, its retry decisions and delays untouched; only its sleep advances the emulator's
    clock (a test must not wait for a ``Retry-After`` on the wall clock)."""

    def __init__(self, *, clock: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._emulator_clock = clock

    def _sleep_for_retry(self, *, retries_taken: int, max_retries: int, options: Any,
                         response: httpx.Response | None) -> None:
        headers = response.headers if response is not None else None
        self._emulator_clock.advance(
            self._calculate_retry_timeout(max_retries - retries_taken, options, headers))


class Stopped(Exception):
    """The script ended early (the error that escaped is its cause)."""


def _run(calls: int, one: Callable[[], Any]) -> int:
    """Make ``calls`` calls with ``one``; returns how many succeeded before an error ended it."""
    done = 0
    for _ in range(calls):
        try:
            one()
        except (openai.APIStatusError, RetryGaveUp, Stopped):
            break
        done += 1
    return done


def naive(emu: Any, key: str, model: str, calls: int, max_tokens: int = 8) -> int:
    http = httpx.Client(base_url=emu.api_base, headers={"Authorization": f"Bearer {key}"})
    body = {"model": model, "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": "hi"}]}

    def one() -> None:
        for _ in range(1 + NAIVE_RETRIES):
            if http.post("/chat/completions", json=body).status_code == 200:
                return
        raise Stopped("still failing")

    with http:
        return _run(calls, one)


def sdk(emu: Any, key: str, model: str, calls: int, max_tokens: int = 8) -> int:
    client = SdkOnEmulatorTime(base_url=emu.api_base, api_key=key, max_retries=SDK_RETRIES,
                               clock=emu.clock)
    with client:
        return _run(calls, lambda: client.chat.completions.create(
            model=model, max_tokens=max_tokens, messages=[{"role": "user", "content": "hi"}]))


def retrying(emu: Any, key: str, model: str, calls: int, max_tokens: int = 8) -> int:
    client = openai.OpenAI(base_url=emu.api_base, api_key=key, max_retries=0)
    clock = emu.clock
    with client:
        return _run(calls, lambda: with_retries(
            lambda: client.chat.completions.create(
                model=model, max_tokens=max_tokens, messages=[{"role": "user", "content": "hi"}]),
            clock=clock.now, sleep=clock.advance))


CLIENTS = {"naive": naive, "sdk": sdk, "with_retries": retrying}
