"""No label is cut off, checked without a browser: the layout widths of every button, toggle
button, description and dropdown leave room for their text.

ipywidgets gives a button 148 px, a toggle button what ``button_width`` says (148 px by default)
and a description 80 px unless told otherwise, and cuts what does not fit with an ellipsis. Text
is estimated at :data:`CHAR_PX` pixels a character, a little more than the 13 px UI font needs
(measured in Chromium: 6.1 to 6.8 px), so a label that passes here has a margin in the browser;
``tests/browser/test_browser_widget_labels.py`` measures the real thing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import ipywidgets as W
import pytest

from orwidgets.widgets import (
    AccountModel,
    AccountPanel,
    DepletionPlanner,
    FreeQuotaExplorer,
    RPSExplorer,
    TopUpAdvisor,
)

#: Pixels a character of the UI font may take, with a margin.
CHAR_PX = 7.0
#: ipywidgets' defaults (jupyter-widgets' CSS variables).
BUTTON_PX = 148  # --jp-widgets-inline-width-short
LABEL_PX = 80  # --jp-widgets-inline-label-width
BUTTON_PADDING_PX = 24  # 0 12px
TOGGLE_PADDING_PX = 20
ICON_PX = 18
SELECT_PADDING_PX = 30  # left padding and the arrow's room on the right


def text_px(text: str) -> float:
    return len(text) * CHAR_PX


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


def livecalls(**traits):
    from orwidgets.emulator import CATALOGUE
    from orwidgets.widgets import LiveCalls

    w = LiveCalls(account=AccountModel(), key_env=None)
    # The model picker's labels once GET /models has answered (the longest ones are in there).
    w._model.options = w._model_options([m.to_json() for m in CATALOGUE])
    for name, value in traits.items():
        setattr(w, name, value)
    return w


def timeline():
    from orwidgets.journal import Journal
    from orwidgets.widgets import JournalTimeline

    return JournalTimeline(Journal())  # a live journal: its Refresh button shows


WIDGETS = {
    "rps": lambda: RPSExplorer(),
    "rps-in-flight": lambda: RPSExplorer(policy="2026-08"),
    "quota": lambda: FreeQuotaExplorer(),
    "quota-topped-up": lambda: FreeQuotaExplorer(topped_up=True),
    "planner": lambda: DepletionPlanner(scheduler=lambda d, f: None),
    "planner-model-cost": lambda: DepletionPlanner(scheduler=lambda d, f: None,
                                                   cost_mode="model"),
    "advisor": lambda: TopUpAdvisor(),
    "account": lambda: AccountPanel(),
    "account-custom": lambda: AccountPanel(target="custom"),
    "account-member": lambda: AccountPanel(demo_account="member"),
    "livecalls": lambda: livecalls(),
    "livecalls-real-rate": lambda: livecalls(target="openrouter", mode="rate"),
    "timeline": lambda: timeline(),
}


@pytest.mark.parametrize("name", list(WIDGETS))
def test_every_label_has_room_for_its_text(name):
    assert problems_of(WIDGETS[name]()) == []


@pytest.mark.parametrize(("widget", "problem"), [
    (W.Button(description="Check with simulation", icon="check"), "button"),
    (W.ToggleButtons(options=["heavy developer (agent-mode tools)", "light user"]),
     "toggle button"),
    (W.ToggleButtons(options=["concurrency", "rate /s"], style={"button_width": "90px"}),
     "toggle button"),
    (W.BoundedIntText(description="cap per run, calls"), "description"),
    (W.Dropdown(options=["a fresh account like the account model (balance and purchases)"],
                layout=W.Layout(width="300px")), "dropdown option"),
])
def test_the_check_catches_the_cut_labels_of_issue_13(widget, problem):
    found = problems_of(widget)
    assert len(found) == 1 and found[0].startswith(problem)
