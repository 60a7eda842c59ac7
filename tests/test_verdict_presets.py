"""No finding fires on a client that does the right thing: ``with_retries`` driven by the
emulator's clock comes out clean in every preset scenario of ``orwidgets.client.PRESETS``, under
every policy version.

Each preset prepares the emulator as it always does (a fresh account, the clock, fault rules)
and sends its calls; here they go one at a time, each through ``awith_retries`` on the emulator's
clock, by an app that stops calling with a key once the helper gave up on it (until the time it
named, if any). The parametrization reads ``PRESETS`` itself, so scenarios added later are judged
too. The emulator is the pytest plugin's, on real time, as a user's test would have it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from orwidgets.client import PRESETS, AsyncOpenRouterClient, RetryGaveUp, awith_retries, run_preset
from orwidgets.client import _presets
from orwidgets.policy import policy_ids


class ResilientClient(AsyncOpenRouterClient):
    """An app's client: every call through ``awith_retries`` on the emulator's clock; after the
    helper gives up, no call with this key until the time it named (none: never again)."""

    clock: Any = None  # the emulator's, set by the test

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopped: RetryGaveUp | None = None

    async def chat(self, model: str, *args: Any, **kwargs: Any):  # type: ignore[override]
        clock = self.clock
        stop = self.stopped
        if stop is not None:
            if stop.until is None or clock.now() < stop.until.timestamp():
                return stop.result  # the app does not call: it has its answer already
            self.stopped = None

        async def advance(seconds: float) -> None:
            clock.advance(seconds)

        call = super().chat
        try:
            return await awith_retries(lambda **changed: call(model, *args, **{**kwargs, **changed}),
                                       clock=clock.now, sleep=advance)
        except RetryGaveUp as gave_up:
            self.stopped = gave_up
            return gave_up.result


@pytest.mark.slow
@pytest.mark.parametrize("policy", policy_ids())
@pytest.mark.parametrize("preset", PRESETS, ids=[p.key for p in PRESETS])
def test_with_retries_comes_out_clean_in_every_preset(openrouter_emulator, monkeypatch, preset, policy):
    emu = openrouter_emulator
    monkeypatch.setattr(ResilientClient, "clock", emu.clock)
    monkeypatch.setattr(_presets, "AsyncOpenRouterClient", ResilientClient)
    run = asyncio.run(run_preset(preset, emu.base_url, emu.admin_token, policy=policy,
                                 concurrency=1))
    assert run.results and any(e.is_chat for e in emu.journal), "the preset sent no call"
    assert emu.verdict() == [], "\n".join(str(f) for f in emu.verdict())
    emu.assert_resilient()


@pytest.mark.openrouter(policy="2025-04")
def test_the_same_presets_sent_as_bursts_are_judged(openrouter_emulator):
    """The check above can fail: the paid burst preset, sent as the preset sends it (all at
    once, no retry helper), breaks the paid rate."""
    emu = openrouter_emulator
    asyncio.run(run_preset("burst", emu.base_url, emu.admin_token))
    assert [f.rule for f in emu.verdict()] == ["paid-rate-exceeded"]
    with pytest.raises(AssertionError, match="paid-rate-exceeded"):
        emu.assert_resilient()
