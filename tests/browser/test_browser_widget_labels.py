"""No widget text is cut off: every button label, description label and dropdown option of every
widget fits its box, in JupyterLab (at the tutorial's width) and in Voila.

ipywidgets draws buttons and description labels with ``overflow: hidden; text-overflow: ellipsis``
and a fixed default width, so a label one word too long silently became "Check with si…"
(planner), "heavy developer …" (advisor) or "concurre…" (LiveCalls). This test measures the
rendered text against its box (``orw_browser.cut_off_texts``), on a small notebook holding one of
each widget, first as built and then in the states that show more controls (the real-API target
and the rate mode of LiveCalls, the model cost of the planner, the custom URL of the account
panel), in every language the widgets speak: Japanese and Chinese labels have other widths than
English ones (the notebook calls ``orwidgets.set_language``; the actions click what the
catalogue calls each control). Screenshots: ``test-artifacts/labels-<app>-<lang>-<widget>.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orw_browser as ob
import pytest

pytestmark = pytest.mark.browser

LANGUAGES = ("en", *ob.TRANSLATED)
CELLS = [
    "import orwidgets\n"
    "orwidgets.set_language({lang!r})\n"
    "from orwidgets.emulator import start\n"
    "from orwidgets.widgets import (AccountPanel, DepletionPlanner, FreeQuotaExplorer, LiveCalls,\n"
    "                               RPSExplorer, TopUpAdvisor)\n"
    "emu = start(latency_ms=0)",
    "RPSExplorer()",
    "FreeQuotaExplorer()",
    "DepletionPlanner()",
    "TopUpAdvisor()",
    "AccountPanel()",
    "LiveCalls(emu)",
]
#: Widget name -> root selector (the DOM contract's classes).
WIDGETS = {
    "rps": ob.RPS,
    "quota": ob.QUOTA,
    "planner": ".orw-planner",
    "advisor": ".orw-advisor",
    "account": ".orw-account-panel",
    "livecalls": ob.LIVECALLS,
}


def _model_count() -> int:
    from orwidgets.emulator import CATALOGUE

    return len(CATALOGUE)


def _show(page: Any, root: str) -> None:
    locator = page.locator(root).first
    locator.wait_for(timeout=ob.RENDER_MS)
    locator.scroll_into_view_if_needed()
    # JupyterLab lays out cells far down the notebook once they scroll into view.
    page.wait_for_function(
        "(root) => { const r = document.querySelector(root);"
        " return !!r && r.getBoundingClientRect().height > 0 && r.innerText.trim().length > 0; }",
        arg=root, timeout=ob.REACT_MS,
    )
    if root == ob.LIVECALLS:
        # Its model list arrives from the emulator's GET /models after the first render: the
        # longest labels are in there.
        page.wait_for_function(
            "([sel, n]) => { const s = document.querySelector(sel);"
            " return !!s && s.options.length >= n; }",
            arg=[f"{ob.LIVECALLS} .orw-model select", _model_count()], timeout=ob.REACT_MS,
        )


#: Japanese labels known to be cut off, by msgid: their controls' widths are set in
#: orwidgets/widgets/, which this test's branch may not change. A page showing only these is
#: reported as xfailed with them; any other cut-off text fails, and once they fit the test
#: passes (then delete the entry).
KNOWN_CUT_OFF: dict[str, tuple[str, ...]] = {
    # None today. (LiveCalls' "Forget key" in Japanese was one, shrunk by the key status beside it
    # in JupyterLab's narrower notebook, until the button stopped shrinking: flex 0 0 auto.)
}


def _known(problem: str, lang: str, _: Any) -> bool:
    """Whether a problem of :func:`ob.cut_off_texts` is about one of ``KNOWN_CUT_OFF[lang]``."""
    shown = re.match(r'^\w+(?: option)? "(.*)"(?: \(selected\))?: text', problem, re.DOTALL)
    text = " ".join(shown.group(1).split()) if shown else ""
    return any(ob.placeholder_regex(" ".join(_(m).split())).fullmatch(text)
               for m in KNOWN_CUT_OFF.get(lang, ()))


def _assert_fits(page: Any, shot: str, name: str, state: str = "", _: Any = None) -> None:
    root = WIDGETS[name]
    _show(page, root)
    problems = ob.cut_off_texts(page, root)
    suffix = f"-{state}" if state else ""
    ob.screenshot(page.locator(root).first, f"labels-{shot}-{name}{suffix}")
    lang = shot.rpartition("-")[2]
    unknown = [p for p in problems if _ is None or not _known(p, lang, _)]
    assert not unknown, f"{name}{suffix} in {shot}: cut-off text:\n  " + "\n  ".join(unknown)
    if problems:
        pytest.xfail(f"{name}{suffix} in {shot}: known cut-off text (KNOWN_CUT_OFF): "
                     + "; ".join(problems))


def _click_and_wait(page: Any, buttons: str, label: str, appears: str) -> None:
    button = page.locator(buttons, has_text=label).first
    button.scroll_into_view_if_needed()
    button.click()
    page.locator(appears).first.wait_for(state="visible", timeout=ob.REACT_MS)


#: States that show more controls: (name, widget, action) where action(page, _) makes them
#: appear, ``_`` giving each control's label in the page's language.
def _real_api_rate(page: Any, _: Any) -> None:
    _click_and_wait(page, f"{ob.LIVECALLS} .orw-target button", _("OpenRouter (real API)"),
                    f"{ob.LIVECALLS} .orw-confirm")
    _click_and_wait(page, f"{ob.LIVECALLS} .orw-mode button", _("rate /s"),
                    f"{ob.LIVECALLS} .orw-rate")


def _model_cost(page: Any, _: Any) -> None:
    _click_and_wait(page, ".orw-planner .orw-cost-mode button", _("cost by model"),
                    ".orw-planner .orw-planner-model")


def _custom_url(page: Any, _: Any) -> None:
    select = page.locator(".orw-account-panel .orw-account-target select").first
    select.scroll_into_view_if_needed()
    select.select_option(label=_("custom URL"))
    page.locator(".orw-account-panel .orw-account-url").first.wait_for(
        state="visible", timeout=ob.REACT_MS)


def _in_flight(page: Any, _: Any) -> None:
    from orwidgets.policy import POLICIES

    select = page.locator(f"{ob.RPS} .orw-policy-picker select").first
    select.scroll_into_view_if_needed()
    select.select_option(index=list(POLICIES).index("2026-08"))  # the picker lists POLICIES
    page.locator(f"{ob.RPS} .orw-in-flight-model").first.wait_for(
        state="visible", timeout=ob.REACT_MS)


STATES = [("real-api-rate", "livecalls", _real_api_rate), ("model-cost", "planner", _model_cost),
          ("custom-url", "account", _custom_url), ("in-flight", "rps", _in_flight)]
PAGES = [(app, lang) for app in ("lab", "voila") for lang in LANGUAGES]


def _notebook(sandbox: ob.Sandbox, lang: str) -> str:
    name = f"orw-every-widget-{lang}.ipynb"
    if not (sandbox.notebooks / name).exists():
        ob.write_notebook(sandbox.notebooks / name, [c.format(lang=lang) for c in CELLS])
    return name


@pytest.fixture(scope="module", params=PAGES, ids=[f"{a}-{lang}" for a, lang in PAGES])
def shown(request: pytest.FixtureRequest, chromium: Any,
          jupyter_sandbox: ob.Sandbox) -> Iterator[tuple[str, Any, ob.PageWatch, Any]]:
    """The notebook's page in one app and language: (name for screenshots, page, watch, the
    language's catalogue as ``_``)."""
    app, lang = request.param
    notebook = _notebook(jupyter_sandbox, lang)
    server = request.getfixturevalue(f"{app}_server")
    with ob.notebook_page(chromium, app, server, notebook) as (page, watch):
        yield (f"{app}-{lang}", page, watch,
               (lambda text: text) if lang == "en" else ob.Catalogue(lang))


@pytest.mark.parametrize("name", list(WIDGETS))
def test_no_widget_text_is_cut_off(shown: Any, name: str) -> None:
    shot, page, _, translate = shown
    _assert_fits(page, shot, name, _=translate)


@pytest.mark.parametrize(("state", "name", "action"), STATES, ids=[s[0] for s in STATES])
def test_no_widget_text_is_cut_off_in_other_states(shown: Any, state: str, name: str,
                                                   action: Any) -> None:
    shot, page, _, translate = shown
    action(page, translate)
    _assert_fits(page, shot, name, state, translate)


def test_the_page_has_no_console_errors(shown: Any) -> None:
    shown[2].assert_clean()
