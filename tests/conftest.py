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
