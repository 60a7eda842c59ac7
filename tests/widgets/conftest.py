"""Fixtures for the widget tests: models are driven directly, no kernel or browser needed."""

from __future__ import annotations

import pytest
from widget_helpers import FakeScheduler

from orwidgets.widgets import AccountModel


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key must never reach these tests.
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)


@pytest.fixture
def account() -> AccountModel:
    return AccountModel()


@pytest.fixture
def scheduler() -> FakeScheduler:
    return FakeScheduler()
