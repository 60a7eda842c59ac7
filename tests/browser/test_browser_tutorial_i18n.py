"""The Japanese and the Chinese tutorial in JupyterLab and in Voila, as their readers meet them.

Each page runs ``notebooks/<lang>/01-tutorial.ipynb`` (JupyterLab: Run All; Voila: what a Binder
``urlpath=voila/render/...`` link opens). The servers have no ``ORWIDGETS_LANG`` (as on Binder):
the language comes from the notebook's own ``orwidgets.set_language(...)``. A reader's key
presses, typed balance and top-up clicks must give readouts in that language, word for word as
the catalogue (the ``.po`` the translators edit, read with Babel: ``orw_browser.Catalogue``)
writes them around the numbers ``orwidgets.policy`` gives. No widget may show English where the
catalogue has a translation; every word of the prose must render, as text, never as math; the
characters must be drawn by a CJK font (not boxes).

Pictures: ``test-artifacts/tutorial-<app>-<lang>.png``; ``ORW_DOC_IMAGES=1`` copies Voila's into
``docs/img/tutorial-<lang>.png`` (the Japanese and Chinese READMEs show them).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import orw_browser as ob
import pytest

from orwidgets import policy

pytestmark = pytest.mark.browser

PAGES = [(app, lang) for app in ("voila", "lab") for lang in ob.TRANSLATED]
#: Every widget the tutorial shows (the DOM contract's root classes).
WIDGETS = [ob.RPS, ob.QUOTA, ".orw-planner", ".orw-advisor", ".orw-account-panel", ob.LIVECALLS]
RPS_LINE = f"{ob.RPS} .orw-rps-readout .widget-html-content > div:nth-child(1)"
RPS_SENTENCE = f"{ob.RPS} .orw-rps-readout .widget-html-content > div:nth-child(2)"
QUOTA_LINE = f"{ob.QUOTA} .orw-quota-readout .widget-html-content > div:nth-child(1)"


@pytest.fixture(scope="module", params=PAGES, ids=[f"{a}-{lang}" for a, lang in PAGES])
def tutorial(request: pytest.FixtureRequest, chromium: Any,
             jupyter_sandbox: ob.Sandbox) -> Iterator[tuple[str, str, Any, ob.PageWatch]]:
    """(app, lang, page, watch): the tutorial in ``lang`` run to its end in ``app``."""
    app, lang = request.param
    path = jupyter_sandbox.tutorial_in(lang)
    if not (jupyter_sandbox.notebooks / path).exists():
        pytest.fail(f"{path} does not exist", pytrace=False)
    # Binder's Voila has no ORWIDGETS_LANG either: the notebook itself must choose the language.
    assert "ORWIDGETS_LANG" not in jupyter_sandbox.env
    server = request.getfixturevalue(f"{app}_server")
    with ob.notebook_page(chromium, app, server, path) as (page, watch):
        page.wait_for_selector(f"{ob.LIVECALLS} .js-plotly-plot", timeout=ob.RENDER_MS)
        yield app, lang, page, watch


@pytest.fixture(scope="module")
def catalogues() -> dict[str, ob.Catalogue]:
    return {lang: ob.Catalogue(lang) for lang in ob.TRANSLATED}


# --- What the readouts must say, from the catalogue and the policy --------------------------------


def rps_rule(cat: ob.Catalogue, rule: str) -> str:
    """The name of the rule behind a paid RPS (policy's English id, ``"cap 500"``) in ``cat``'s
    language, as the catalogue words it."""
    head, _, number = rule.rpartition(" ")
    if number.isdigit() and f"{head} {{n}}" in policy.RPS_RULES:
        return cat(policy.RPS_RULES[f"{head} {{n}}"]).format(n=number)
    return cat(policy.RPS_RULES[rule])


def rps_line(cat: ob.Catalogue, balance: float) -> str:
    """The RPS explorer's readout for ``balance`` under the tutorial's rules (the default)."""
    answer = policy.explain_paid_rps(balance)
    template = cat.ngettext("{balance} → {value} paid request per second {rule}",
                            "{balance} → {value} paid requests per second {rule}", answer.rps)
    return template.format(balance=policy.format_usd(balance), value=f"{answer.rps:,}",
                           rule=cat("({rule})").format(rule=rps_rule(cat, answer.rule)))


def quota_line(cat: ob.Catalogue, topped_up: bool) -> str:
    """The free quota explorer's first readout line, topped up or not."""
    quota = policy.daily_free_quota_topped_up(topped_up)
    template = cat.ngettext(
        "Daily free-model quota: {quota} request per UTC day, and {per_minute} per minute.",
        "Daily free-model quota: {quota} requests per UTC day, and {per_minute} per minute.",
        quota)
    return template.format(quota=f"{quota:,}", per_minute=f"{policy.free_per_minute():,}")


def topup_label(cat: ob.Catalogue) -> str:
    return cat("topped up {threshold}+ credits").format(threshold=f"{policy.TOPUP_THRESHOLD_USD:g}")


def _text(page: Any, selector: str) -> str:
    return (page.locator(selector).first.text_content() or "").strip()


def _wait_text(page: Any, selector: str, want: str) -> None:
    try:
        page.wait_for_function(
            "([sel, want]) => { const e = document.querySelector(sel);"
            " return !!e && e.textContent.trim() === want; }",
            arg=[selector, want], timeout=ob.REACT_MS,
        )
    except Exception:  # noqa: BLE001 - say what was there instead
        raise AssertionError(f"{selector}: shows {_text(page, selector)!r}, expected {want!r}")


def _rps_settled(app: str, page: Any, cat: ob.Catalogue) -> float:
    """Once the page and the kernel agree on one balance, the readout must say, in the page's
    language, what the policy says of it. Returns the balance."""
    if app == "lab":
        ob.lab_kernel_barrier(page)
    ob.wait_rps_settled(page)
    balance, rps, _ = ob.rps_state(page)
    _wait_text(page, RPS_LINE, rps_line(cat, balance))
    assert rps == policy.paid_rps(balance)
    _wait_text(page, RPS_SENTENCE, policy.explain_paid_rps(balance, lang=cat.lang).text)
    return balance


# --- The widgets, driven --------------------------------------------------------------------------


def test_the_rps_explorer_speaks_the_language(tutorial: Any, catalogues: Any) -> None:
    app, lang, page, _ = tutorial
    cat = catalogues[lang]
    page.locator(ob.RPS).first.scroll_into_view_if_needed()
    balance = _rps_settled(app, page, cat)
    assert _text(page, f"{ob.RPS} .orw-balance-slider .widget-label") == cat("Balance $")
    assert _text(page, f"{ob.RPS} .orw-balance-input .widget-label") == cat("or type $")
    assert balance > 0


@pytest.mark.parametrize(("typed", "rule"), [("42.3", "rounded up"), ("0.5", "minimum 1"),
                                             ("1000", "cap 500")])
def test_a_typed_balance_gives_the_readout_in_the_language(tutorial: Any, catalogues: Any,
                                                           typed: str, rule: str) -> None:
    app, lang, page, _ = tutorial
    cat = catalogues[lang]
    assert policy.explain_paid_rps(float(typed)).rule == rule  # the case this row is about
    ob.type_balance(page, typed)
    ob.wait_rps_marker_at(page, float(typed))
    assert _rps_settled(app, page, cat) == pytest.approx(float(typed), abs=0.005)
    assert rps_rule(cat, rule) in _text(page, RPS_LINE)


@pytest.mark.parametrize(("key", "direction"), [("End", 1), ("Home", -1), ("ArrowRight", 1),
                                                ("PageDown", -1)])
def test_slider_keys_give_the_readout_in_the_language(tutorial: Any, catalogues: Any, key: str,
                                                      direction: int) -> None:
    app, lang, page, _ = tutorial
    cat = catalogues[lang]
    ob.type_balance(page, "100")  # a point of the log slider's grid: nothing to round
    ob.wait_rps_marker_at(page, 100.0)
    start = _rps_settled(app, page, cat)
    page.focus(ob.RPS_HANDLE)
    page.keyboard.press(key)
    ob.wait_trace_changed(page, ob.RPS, ob.MARKER, [start])
    assert (_rps_settled(app, page, cat) - start) * direction > 0


def test_the_topup_toggle_gives_the_quota_in_the_language(tutorial: Any, catalogues: Any) -> None:
    app, lang, page, _ = tutorial
    cat = catalogues[lang]
    toggle = page.locator(ob.TOPUP).first
    toggle.scroll_into_view_if_needed()
    assert (toggle.text_content() or "").strip() == topup_label(cat)
    seen = []
    for _ in range(2):
        on = "mod-active" in (toggle.get_attribute("class") or "")
        _wait_text(page, QUOTA_LINE, quota_line(cat, on))
        toggle.click()
        page.wait_for_function(
            "([sel, was]) => document.querySelector(sel).classList.contains('mod-active') !== was",
            arg=[ob.TOPUP, on], timeout=ob.REACT_MS)
        _wait_text(page, QUOTA_LINE, quota_line(cat, not on))
        seen.append(int(_text(page, ob.DAILY_QUOTA).replace(",", "")))
    assert sorted(seen) == sorted(policy.daily_free_quota_topped_up(t) for t in (False, True))


@pytest.mark.parametrize("root", WIDGETS, ids=[w.removeprefix(".orw-") for w in WIDGETS])
def test_no_english_is_left_where_the_catalogue_has_a_translation(tutorial: Any, catalogues: Any,
                                                                  root: str) -> None:
    app, lang, page, _ = tutorial
    locator = page.locator(root).first
    locator.scroll_into_view_if_needed()
    # JupyterLab lays out cells far down the notebook once they scroll into view.
    page.wait_for_function(
        "(root) => { const r = document.querySelector(root);"
        " return !!r && r.innerText.trim().length > 0 && (!r.querySelector('.js-plotly-plot')"
        " || !!r.querySelector('.js-plotly-plot .gtitle')); }",
        arg=root, timeout=ob.REACT_MS)
    labels, text = ob.shown_texts(page, root)
    assert ob.english_left(labels, text, catalogues[lang]) == []
    ob.screenshot(locator, f"i18n-{app}-{lang}-{root.removeprefix('.orw-')}")


# --- The prose and the characters -----------------------------------------------------------------


def test_the_prose_shows_every_word_as_text_and_no_math(tutorial: Any,
                                                        jupyter_sandbox: ob.Sandbox) -> None:
    app, lang, page, _ = tutorial
    shown = ob.lab_rendered_markdown(page) if app == "lab" else ob.voila_rendered_markdown(page)
    nb_path = jupyter_sandbox.notebooks / jupyter_sandbox.tutorial_in(lang)
    assert ob.markdown_render_problems(nb_path, shown) == []


OTHERS = [(lang, name) for lang in ob.TRANSLATED
          for name in ("02-embed-gallery.ipynb", "03-test-your-app.ipynb")]


@pytest.mark.parametrize(("lang", "name"), OTHERS, ids=[f"{lang}-{n[:2]}" for lang, n in OTHERS])
def test_the_other_notebooks_prose_shows_as_text(chromium: Any, lab_server: ob.Server,
                                                 jupyter_sandbox: ob.Sandbox, lang: str,
                                                 name: str) -> None:
    path = f"notebooks/{lang}/{name}"
    context, page, watch = ob.new_page(chromium)
    try:
        ob.open_lab_notebook(page, lab_server, path)  # opened, not run
        shown = ob.lab_rendered_markdown(page)
    finally:
        context.close()
    assert ob.markdown_render_problems(jupyter_sandbox.notebooks / path, shown) == []
    watch.assert_clean()


@pytest.mark.parametrize("root", [ob.RPS, ".jp-MarkdownCell"])
def test_a_cjk_font_draws_every_character(tutorial: Any, root: str) -> None:
    """fonts-noto-cjk draws them. Which of its faces: the page (and the widget) carries no
    ``lang`` attribute, so Chromium takes Noto Sans CJK JP for Chinese too: the same Han shapes
    here, but full-width ``：`` and ``；`` centred, as Japanese sets them, where a ``lang="zh-CN"``
    would give Noto Sans CJK SC and put them at the lower left. ipywidgets 8 puts only classes,
    layout styles, a tooltip and a tabindex on a widget's root, so the widgets cannot say it
    without a front end of their own."""
    app, lang, page, _ = tutorial
    page.locator(root).first.scroll_into_view_if_needed()
    drawn = ob.cjk_fonts(page, root)
    assert drawn["cjk_chars"] > 0, drawn
    # Without fonts-noto-cjk another family "draws" them as boxes: fewer CJK glyphs than chars.
    assert drawn["cjk_glyphs"] >= drawn["cjk_chars"], drawn
    if lang == "ja":
        assert "Noto Sans CJK JP" in drawn["fonts"], drawn


def test_the_picture(tutorial: Any, catalogues: Any) -> None:
    """The RPS explorer with the prose that introduces it, as the reader sees it."""
    app, lang, page, _ = tutorial
    ob.type_balance(page, "42.3")  # a balance that is rounded up (to 43 RPS), mid-chart
    ob.wait_rps_marker_at(page, 42.3)
    _rps_settled(app, page, catalogues[lang])
    page.evaluate("() => document.activeElement && document.activeElement.blur()")  # no focus ring
    path = ob.picture_of_widget_with_prose(page, ob.RPS, f"tutorial-{app}-{lang}",
                                           width=None if app == "lab" else ob.PICTURE_WIDTH)
    assert path.stat().st_size > 0
    if app == "voila" and os.environ.get("ORW_DOC_IMAGES") == "1":
        ob.DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, ob.DOC_IMAGES / f"tutorial-{lang}.png")


def test_no_console_errors(tutorial: Any) -> None:
    tutorial[3].assert_clean()
