"""Fixtures for the widget tests: models are driven directly, no kernel or browser needed."""

from __future__ import annotations

import pytest
from widget_helpers import FakeScheduler

from orwidgets import i18n
from orwidgets.widgets import AccountModel


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key must never reach these tests.
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)


@pytest.fixture(autouse=True)
def _english_unless_told(monkeypatch: pytest.MonkeyPatch):
    # The widgets speak English here unless a test chooses: a reader's ORWIDGETS_LANG, or a
    # language another test chose, must not change what these tests read.
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    i18n.set_language(None)
    yield
    i18n.set_language(None)


@pytest.fixture
def account() -> AccountModel:
    return AccountModel()


@pytest.fixture
def scheduler() -> FakeScheduler:
    return FakeScheduler()
