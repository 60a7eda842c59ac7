"""Suite-wide: the browser tests run last.

Their session fixtures hold Playwright's sync API, which keeps an asyncio loop running in the main
thread until the session ends; a test that runs after them and starts a loop of its own
(``asyncio.run``, anyio) would fail with "Cannot run the event loop while another loop is running".
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture
def clean_language(monkeypatch):
    """No language chosen, no ``ORWIDGETS_LANG``: English unless a test says otherwise; the choice
    is forgotten afterwards."""
    from orwidgets import i18n

    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    i18n.set_language(None)
    yield
    i18n.set_language(None)


@pytest.fixture(scope="session")
def msgstr():
    """``msgstr(lang, msgid)``: the translation the ``.po`` file of ``lang`` holds (read with
    Babel, not through orwidgets): what a reader must see. Plural entries give their one form."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[1] / "orwidgets" / "locale"
    catalogues = {}

    def lookup(lang: str, msgid: str) -> str:
        if lang not in catalogues:
            with (root / lang / "LC_MESSAGES" / "orwidgets.po").open("rb") as handle:
                catalogues[lang] = read_po(handle, locale=lang)
        message = catalogues[lang].get(msgid)
        assert message is not None and message.string, f"{lang}: no translation of {msgid!r}"
        return message.string[0] if isinstance(message.string, tuple) else message.string

    return lookup
