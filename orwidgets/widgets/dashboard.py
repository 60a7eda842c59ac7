"""All the explorers in tabs over one shared account model."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
from traitlets import link

from ..i18n import N_
from ._common import CSS, esc, widget_translator
from ._model import AccountModel, PolicyId

__all__ = ["Dashboard", "TAB_TITLES"]

#: The tab titles, in English (msgids): the dashboard shows them in its language.
TAB_TITLES = (N_("RPS"), N_("Free quota"), N_("Planner"), N_("Advisor"), N_("Account"),
              N_("Live calls"))


class Dashboard(W.Tab):
    """Tabs RPS / Free quota / Planner / Advisor / Account / Live calls over one account.

    Change the balance, purchases or policy in any tab and every other tab follows: they all
    observe the same :class:`AccountModel`.

    Parameters
    ----------
    account : AccountModel, optional
        The shared account (a new one if omitted).
    planner, account_panel, live_calls : dict, optional
        Extra keyword arguments for :class:`DepletionPlanner`, :class:`AccountPanel` and
        ``LiveCalls``.
    show_live_calls : bool
        Include the Live calls tab (when :mod:`orwidgets.widgets.livecalls` is importable; a note
        takes its place otherwise).
    lang : {"en", "ja", "zh"}, optional
        The language of its tab titles and of every tab (see
        :func:`orwidgets.i18n.get_language`: a language set with :func:`orwidgets.set_language`
        wins, then this, then ``ORWIDGETS_LANG``): the dashboard resolves it once and builds each
        tab in it, so the tabs follow the dashboard (a ``lang`` inside ``planner=`` and the other
        dicts is overridden).

    Attributes
    ----------
    policy : str
        Linked to the account.
    lang : str
        The language of the dashboard and its tabs.
    rps, quota, planner, advisor, account_panel, live_calls
        The tab widgets (``live_calls`` is ``None`` when unavailable).
    """

    policy = PolicyId(help="Policy version id (linked to the shared account)")

    def __init__(self, account: AccountModel | None = None, *,
                 planner: dict[str, Any] | None = None,
                 account_panel: dict[str, Any] | None = None,
                 live_calls: dict[str, Any] | None = None,
                 show_live_calls: bool = True, lang: str | None = None, **kwargs: Any) -> None:
        from .account import AccountPanel
        from .advisor import TopUpAdvisor
        from .planner import DepletionPlanner
        from .quota import FreeQuotaExplorer
        from .rps import RPSExplorer

        super().__init__(**kwargs)
        self._ = _ = widget_translator(lang)
        self.lang = lang = _.lang
        self.account = account if account is not None else AccountModel()
        self.rps = RPSExplorer(self.account, lang=lang)
        self.quota = FreeQuotaExplorer(self.account, lang=lang)
        self.planner = DepletionPlanner(self.account, **{**(planner or {}), "lang": lang})
        self.advisor = TopUpAdvisor(self.account, lang=lang)
        self.account_panel = AccountPanel(self.account, **{**(account_panel or {}), "lang": lang})
        self.live_calls: Any = None
        self.live_calls_error: str | None = None
        children: list[W.Widget] = [self.rps, self.quota, self.planner, self.advisor,
                                    self.account_panel]
        titles = list(TAB_TITLES[:5])
        if show_live_calls:
            children.append(self._make_live_calls({**(live_calls or {}), "lang": lang}))
            titles.append(TAB_TITLES[5])
        self.children = children
        self.titles = tuple(_(title) for title in titles)
        self.add_class("orw-dashboard")
        link((self.account, "policy"), (self, "policy"))

    def _make_live_calls(self, options: dict[str, Any]) -> W.Widget:
        # LiveCalls is written separately and may be missing or broken: the dashboard must still
        # work, so a note takes the tab's place and says why.
        _ = self._
        try:
            from .livecalls import LiveCalls
        except ImportError as exc:
            self.live_calls_error = _("Live calls are not available in this install "
                                      "({error}).").format(error=exc)
        else:
            try:
                self.live_calls = LiveCalls(account=self.account, **options)
                return self.live_calls
            except Exception as exc:  # noqa: BLE001 - shown in the tab instead
                self.live_calls_error = _("Live calls could not start: {error}").format(
                    error=f"{type(exc).__name__}: {exc}")
        note = W.HTML(f'<div style="color:{CSS["muted"]}">{esc(self.live_calls_error)}</div>')
        note.add_class("orw-livecalls-missing")
        return note

    def __repr__(self) -> str:
        acct = self.account
        return (f"Dashboard(policy={acct.policy!r}, balance_usd={acct.balance_usd!r}, "
                f"purchased_usd={acct.purchased_usd!r}, tabs={list(self.titles)!r})")
