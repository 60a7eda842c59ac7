"""No label is cut off, checked without a browser: the layout widths of every button, toggle
button, description and dropdown leave room for their text.

ipywidgets gives a button 148 px, a toggle button what ``button_width`` says (148 px by default)
and a description 80 px unless told otherwise, and cuts what does not fit with an ellipsis. Text
is estimated at :data:`CHAR_PX` pixels a character, a little more than the 13 px UI font needs
(measured in Chromium: 6.1 to 6.8 px), and a Japanese or Chinese character (East Asian wide or
full-width) at :data:`WIDE_PX`, a little more than the 1 em a CJK glyph takes; so a label that
passes here has a margin in the browser; ``tests/browser/test_browser_widget_labels.py`` measures
the real thing.

Every widget is checked in each language with the real catalogues (``orwidgets/locale``): a label
that fits in English may not in Japanese or Chinese, and the other way round.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import ipywidgets as W
import pytest

from orwidgets import i18n
from orwidgets.widgets import (
    AccountModel,
    AccountPanel,
    Dashboard,
    DepletionPlanner,
    FreeQuotaExplorer,
    RPSExplorer,
    TopUpAdvisor,
)

#: Pixels a character of the UI font may take, with a margin.
CHAR_PX = 7.0
#: Pixels a wide (CJK, full-width) character may take: 1 em of the 13 px font, with a margin.
WIDE_PX = 14.0
#: ipywidgets' defaults (jupyter-widgets' CSS variables).
BUTTON_PX = 148  # --jp-widgets-inline-width-short
LABEL_PX = 80  # --jp-widgets-inline-label-width
BUTTON_PADDING_PX = 24  # 0 12px
TOGGLE_PADDING_PX = 20
ICON_PX = 18
SELECT_PADDING_PX = 30  # left padding and the arrow's room on the right
TAB_PX = 144  # --jp-widgets-horizontal-tab-width
TAB_PADDING_PX = 20  # 0 10px


def text_px(text: str) -> float:
    return sum(WIDE_PX if unicodedata.east_asian_width(char) in "WF" else CHAR_PX
               for char in text)


def px(width: str | None, default: float | None) -> float | None:
    """A layout width in pixels; ``None`` for "auto"/"initial"/percentages (sized by content)."""
    if not width:
        return default
    match = re.fullmatch(r"(\d+(?:\.\d+)?)px", width.strip())
    return float(match.group(1)) if match else None


def walk(widget: W.Widget) -> Iterator[W.Widget]:
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from walk(child)


def label_room(widget: W.Widget) -> float | None:
    """Room of a description label, ``None`` when it takes the width of its text."""
    style = getattr(widget, "style", None)
    width = getattr(style, "description_width", "") if style is not None else ""
    return px(width, LABEL_PX - 8)


def problems_of(root: W.Widget) -> list[str]:
    found = []
    for w in walk(root):
        if isinstance(w, W.Tab):
            for title in w.titles:
                if text_px(title) > TAB_PX - TAB_PADDING_PX:
                    found.append(f"tab title {title!r} in {TAB_PX - TAB_PADDING_PX} px")
        if isinstance(w, W.Button):
            room = px(w.layout.width, BUTTON_PX)
            if room is not None:
                room -= BUTTON_PADDING_PX + (ICON_PX if w.icon else 0)
                if text_px(w.description) > room:
                    found.append(f"button {w.description!r} in {room:.0f} px")
        if isinstance(w, W.ToggleButton) and not isinstance(w, W.ToggleButtons):
            room = px(w.layout.width, BUTTON_PX)
            if room is not None and text_px(w.description) + ICON_PX > room - BUTTON_PADDING_PX:
                found.append(f"toggle {w.description!r} in {room:.0f} px")
        if isinstance(w, W.ToggleButtons):
            room = px(w.style.button_width, BUTTON_PX)
            for label in w._options_labels:
                if room is not None and text_px(label) > room - TOGGLE_PADDING_PX:
                    found.append(f"toggle button {label!r} in {room:.0f} px")
            continue  # its description is an inline box: it is never cut
        description = getattr(w, "description", "")
        if description and not isinstance(w, (W.Button, W.ToggleButton, W.Checkbox)):
            room = label_room(w)
            if room is not None and text_px(description) > room:
                found.append(f"description {description!r} in {room:.0f} px")
        if isinstance(w, W.Dropdown):
            total = px(w.layout.width, None)
            if total is None:
                continue
            used = label_room(w)
            used = (text_px(w.description) + 8 if used is None else used + 8) if w.description \
                else 0
            room = total - used - SELECT_PADDING_PX
            for label in w._options_labels:
                if text_px(label) > room:
                    found.append(f"dropdown option {label!r} in {room:.0f} px")
    return found


def livecalls(lang, **traits):
    from orwidgets.emulator import CATALOGUE
    from orwidgets.widgets import LiveCalls

    w = LiveCalls(account=AccountModel(), key_env=None, lang=lang)
    # The model picker's labels once GET /models has answered (the longest ones are in there).
    w._model.options = w._model_options([m.to_json() for m in CATALOGUE])
    for name, value in traits.items():
        setattr(w, name, value)
    return w


def timeline(lang):
    from orwidgets.journal import Journal
    from orwidgets.widgets import JournalTimeline

    return JournalTimeline(Journal(), lang=lang)  # a live journal: its Refresh button shows


def quiet():
    return lambda delay, fn: None


WIDGETS = {
    "rps": lambda lang: RPSExplorer(lang=lang),
    "rps-in-flight": lambda lang: RPSExplorer(policy="2026-08", lang=lang),
    "quota": lambda lang: FreeQuotaExplorer(lang=lang),
    "quota-topped-up": lambda lang: FreeQuotaExplorer(topped_up=True, lang=lang),
    "planner": lambda lang: DepletionPlanner(scheduler=quiet(), lang=lang),
    "planner-model-cost": lambda lang: DepletionPlanner(scheduler=quiet(), cost_mode="model",
                                                        lang=lang),
    "advisor": lambda lang: TopUpAdvisor(lang=lang),
    "account": lambda lang: AccountPanel(lang=lang),
    "account-custom": lambda lang: AccountPanel(target="custom", lang=lang),
    "account-member": lambda lang: AccountPanel(demo_account="member", lang=lang),
    "livecalls": lambda lang: livecalls(lang),
    "livecalls-real-rate": lambda lang: livecalls(lang, target="openrouter", mode="rate"),
    "timeline": lambda lang: timeline(lang),
    "dashboard": lambda lang: Dashboard(planner={"scheduler": quiet()}, lang=lang),
}


@pytest.fixture
def language(request, monkeypatch):
    """The language to build in, nothing else choosing one (the real catalogues)."""
    monkeypatch.delenv(i18n.ENV_VAR, raising=False)
    i18n.set_language(None)
    yield request.param
    i18n.set_language(None)


@pytest.mark.parametrize("language", i18n.LANGUAGES, indirect=True)
@pytest.mark.parametrize("name", list(WIDGETS))
def test_every_label_has_room_for_its_text(name, language):
    widget = WIDGETS[name](language)
    assert widget.lang == language
    assert problems_of(widget) == []


@pytest.mark.parametrize(("widget", "problem"), [
    (W.Button(description="Check with simulation", icon="check"), "button"),
    (W.ToggleButtons(options=["heavy developer (agent-mode tools)", "light user"]),
     "toggle button"),
    (W.ToggleButtons(options=["concurrency", "rate /s"], style={"button_width": "90px"}),
     "toggle button"),
    (W.BoundedIntText(description="cap per run, calls"), "description"),
    (W.Dropdown(options=["a fresh account like the account model (balance and purchases)"],
                layout=W.Layout(width="300px")), "dropdown option"),
    # 11 wide characters need about 150 px: more than the 148 px of a button
    (W.Button(description="シミュレーションで確認"), "button"),
    (W.Tab(children=[W.HTML()], titles=["ライブ呼び出しとシミュレーション"]),
     "tab title"),
])
def test_the_check_catches_the_cut_labels_of_issue_13(widget, problem):
    found = problems_of(widget)
    assert len(found) == 1 and found[0].startswith(problem)
