"""Is a 10-credit top-up worth it? Free-call needs and paid usage in, a verdict and reasons out."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
from traitlets import (
    Bool,
    Enum,
    Float,
    HasTraits,
    Instance,
    Int,
    List,
    Unicode,
    default,
    dlink,
    link,
    observe,
    validate,
)

from ..i18n import N_
from ..policy import daily_free_quota, explain_paid_rps, free_per_minute
from ._common import (
    CSS,
    Notice,
    esc,
    fmt_count,
    fmt_usd,
    guarded,
    html_text,
    plural_n,
    policy_caption,
    policy_picker,
    set_number,
    widget_translator,
)
from ._model import AccountModel, FiniteFloat, PolicyId, topup_threshold
from .planner import balance_threshold

__all__ = ["PRESETS", "VERDICTS", "AdvisorModel", "TopUpAdvisor"]

#: The article's user types (the English names are the values code gives; the buttons show them
#: translated). [inv] the numbers are illustrative, not from OpenRouter or the
#: article: an agent-mode coding tool (Cursor, Cline, MCP tools) easily makes hundreds of calls a
#: day in bursts above 20 a minute; a light user a handful; a production app runs on paid models.
PRESETS: dict[str, dict[str, float]] = {
    N_("heavy developer (agent-mode tools)"): {
        "free_calls_per_day": 400, "peak_free_per_minute": 30, "paid_usd_per_day": 0.0,
        "needed_rps": 0.0,
    },
    N_("light user"): {
        "free_calls_per_day": 15, "peak_free_per_minute": 2, "paid_usd_per_day": 0.0,
        "needed_rps": 0.0,
    },
    N_("production app"): {
        "free_calls_per_day": 0, "peak_free_per_minute": 0, "paid_usd_per_day": 25.0,
        "needed_rps": 20.0,
    },
}
CUSTOM = N_("custom")

#: Possible verdicts, and whether each means "buy the credits" (English: the verdict's id, which
#: the widget shows translated).
VERDICTS: dict[str, bool] = {
    N_("worth it"): True,
    N_("worth it, but not enough alone"): True,
    N_("not needed"): False,
    N_("already topped up"): False,
    N_("no effect under this policy"): False,
}


class AdvisorModel(HasTraits):
    """The advice, from needs and the account (no widgets).

    Parameters
    ----------
    account : AccountModel
    preset : str
        A key of :data:`PRESETS` or ``"custom"``; choosing one fills the needs below, editing a
        need switches back to ``"custom"``.
    free_calls_per_day, peak_free_per_minute : int
        Free-model calls a day and at the busiest minute (negative clamps to 0).
    paid_usd_per_day : float
        Spending on paid models a day (negative clamps to 0).
    needed_rps : float
        Paid requests per second the app needs (0 if none).
    lang : str, optional
        The language of ``reasons`` (the language in force when omitted: see
        :func:`orwidgets.i18n.get_language`).

    Attributes
    ----------
    verdict : str
        One of :data:`VERDICTS` (in English: an id); ``worth_it`` is its boolean.
    reasons : list of str
        The sentences behind it, in the model's language.
    quota_now, quota_topped_up : int
        Daily free quota as the account stands, and after buying the threshold.
    days_to_spend_topup : float or None
        Days of paid usage that spend the 10 credits anyway.
    """

    account = Instance(AccountModel, help="The account (purchases and policy)")
    preset = Enum([*PRESETS, CUSTOM], CUSTOM, help="A user type from the article, or custom")
    free_calls_per_day = Int(100, help="Free-model calls needed per day (>= 0)")
    peak_free_per_minute = Int(5, help="Free-model calls in the busiest minute (>= 0)")
    paid_usd_per_day = FiniteFloat(0.0, help="Paid-model spending per day, USD (>= 0)")
    needed_rps = FiniteFloat(0.0, help="Paid requests per second the app needs (>= 0)")

    quota_now = Int(0, help="Derived: daily free quota as the account stands")
    quota_topped_up = Int(0, help="Derived: daily free quota after buying the threshold")
    verdict = Unicode("", help="Derived: one of VERDICTS")
    worth_it = Bool(False, help="Derived: whether the verdict says buy the credits")
    reasons = List(Unicode(), help="Derived: the sentences behind the verdict")
    days_to_spend_topup = Float(None, allow_none=True,
                                help="Derived: days of paid usage that spend the top-up anyway")
    revision = Int(0, help="Bumped once after every recomputation")

    _NEEDS = ("free_calls_per_day", "peak_free_per_minute", "paid_usd_per_day", "needed_rps")

    @default("account")
    def _default_account(self) -> AccountModel:
        return AccountModel()

    def __init__(self, account: AccountModel | None = None, *, lang: str | None = None,
                 **kwargs: Any) -> None:
        self._ = widget_translator(lang)
        self._applying = False
        preset = kwargs.pop("preset", None)
        super().__init__(**({"account": account} if account is not None else {}), **kwargs)
        if preset is not None:
            self.preset = preset
        self.account.observe(self._update, names=["purchased_usd", "balance_usd", "policy"])
        self.observe(self._update, names=list(self._NEEDS))
        self._update()

    @validate("free_calls_per_day", "peak_free_per_minute")
    def _v_count(self, p):
        return min(10_000_000, max(0, p["value"]))

    @validate("paid_usd_per_day", "needed_rps")
    def _v_amount(self, p):
        return min(1_000_000.0, max(0.0, p["value"]))

    @observe("preset")
    def _on_preset(self, change) -> None:
        if change["new"] == CUSTOM:
            return
        self._applying = True
        try:
            with self.hold_trait_notifications():
                for name, value in PRESETS[change["new"]].items():
                    setattr(self, name, type(getattr(self, name))(value))
        finally:
            self._applying = False
        self._update()

    @observe(*_NEEDS)
    def _on_need(self, change) -> None:
        if not self._applying and self.preset != CUSTOM:
            self.preset = CUSTOM

    def _update(self, change: Any = None) -> None:
        if self._applying:
            return
        _ = self._
        acct = self.account
        version = acct.version
        threshold = topup_threshold(version)
        now = daily_free_quota(acct.purchased_usd, version)
        topped = daily_free_quota(max(acct.purchased_usd, threshold), version)
        per_min = free_per_minute(version)
        need, peak = self.free_calls_per_day, self.peak_free_per_minute
        paid = self.paid_usd_per_day
        days = threshold / paid if paid > 0 else None
        reasons: list[str] = []
        numbers = {"now": fmt_count(now), "topped": fmt_count(topped), "need": fmt_count(need),
                   "threshold": fmt_usd(threshold), "policy": version.id,
                   "purchased": fmt_usd(acct.purchased_usd), "paid": fmt_usd(paid)}

        if not version.has_topup_tier:
            verdict = "no effect under this policy"
            reasons.append(_("Under '{policy}' everyone gets {now} free calls a day: buying "
                             "credits does not change it.").format(**numbers))
            if need > now:
                reasons.append(_("You need {need} a day: {more} more than the quota.").format(
                    more=fmt_count(need - now), **numbers))
        elif acct.purchased_usd >= threshold:
            verdict = "already topped up"
            reasons.append(_("This account has bought {purchased} of credits: it already has "
                             "{now} free calls a day, even after the balance is spent."
                             ).format(**numbers))
            if need > now:
                reasons.append(_("You need {need} a day: {more} more than even the top tier; move "
                                 "the rest to paid models.").format(more=fmt_count(need - now),
                                                                    **numbers))
        elif need > topped:
            verdict = "worth it, but not enough alone"
            reasons.append(_("{threshold} of credits raises the day from {now} to {topped} free "
                             "calls, still {short} short of your {need}: send the rest to paid "
                             "models.").format(short=fmt_count(need - topped), **numbers))
        elif need > now:
            verdict = "worth it"
            reasons.append(_.ngettext(
                "You need {need} free calls a day; without a top-up you get {now}, and {more} call "
                "a day would get a per-day 429. Buying {threshold} of credits once raises it to "
                "{topped}, and the credits still pay for paid models.",
                "You need {need} free calls a day; without a top-up you get {now}, and {more} calls "
                "a day would get a per-day 429. Buying {threshold} of credits once raises it to "
                "{topped}, and the credits still pay for paid models.", plural_n(need - now),
            ).format(more=fmt_count(need - now), **numbers))
        elif days is not None:
            verdict = "worth it"
            reasons.append(_("{now} free calls a day cover your {need}, but you spend {paid} a day "
                             "on paid models: buying those credits as one {threshold} top-up also "
                             "unlocks {topped} free calls a day.").format(**numbers))
        else:
            verdict = "not needed"
            reasons.append(_("{now} free calls a day cover your {need}. The website chat with "
                             "(free) models is another option for light use.").format(**numbers))

        if peak > per_min:
            reasons.append(_.ngettext(
                "Your busiest minute has {peak} free call, above the {limit} a minute limit, which "
                "no top-up raises: space the calls out (agent tools hit this).",
                "Your busiest minute has {peak} free calls, above the {limit} a minute limit, which "
                "no top-up raises: space the calls out (agent tools hit this).", plural_n(peak),
            ).format(peak=fmt_count(peak), limit=fmt_count(per_min)))
        if days is not None and verdict != "already topped up":
            spent = round(days, 1)
            reasons.append(_.ngettext(
                "Your paid usage spends {threshold} in {days} day anyway.",
                "Your paid usage spends {threshold} in {days} days anyway.", plural_n(spent),
            ).format(days=fmt_count(spent), **numbers))
        if self.needed_rps > 0:
            reasons.append(self._rps_reason(version))
        if VERDICTS[verdict]:
            reasons.append(_("Credits may expire a year after purchase and are generally not "
                             "refundable."))

        with self.hold_trait_notifications():
            self.quota_now, self.quota_topped_up = now, topped
            self.verdict, self.worth_it = verdict, VERDICTS[verdict]
            self.reasons = reasons
            self.days_to_spend_topup = days
        self.revision += 1

    def _rps_reason(self, version) -> str:
        _ = self._
        need = self.needed_rps
        t = balance_threshold(need, version)
        if t == "never" and not version.paid_rps_linked:
            return _("Under '{policy}' paid models have no balance-linked platform cap: the "
                     "balance only has to pay for the calls.").format(policy=version.id)
        if t == "never":
            return _("{need} RPS is within the {floor} RPS floor: any positive balance gives it."
                     ).format(need=fmt_count(need), floor=fmt_count(version.paid_rps_min))
        if t == "always":
            return _("{need} RPS is above the {cap} RPS cap: no balance gives it.").format(
                need=fmt_count(need), cap=fmt_count(version.paid_rps_cap))
        now = explain_paid_rps(self.account.balance_usd, version)
        return _("For {need} paid RPS keep the balance above {threshold} at all times (now "
                 "{balance}: {rps} RPS). The planner tab works out the top-up for your traffic."
                 ).format(need=fmt_count(need), threshold=fmt_usd(t),
                          balance=fmt_usd(self.account.balance_usd), rps=fmt_count(now.rps))


class TopUpAdvisor(W.VBox):
    """Should this account buy 10 credits? Presets for the article's user types.

    Parameters
    ----------
    account : AccountModel, optional
    preset : str, optional
        A key of :data:`PRESETS` (in English, in every language).
    lang : {"en", "ja", "zh"}, optional
        The language of its text (:func:`orwidgets.set_language` wins, then this, then
        ``ORWIDGETS_LANG``); kept for the widget's life.
    **needs
        Initial :class:`AdvisorModel` needs.

    Attributes
    ----------
    policy, purchased_usd : linked to the account.
    verdict, worth_it : derived.
    model : AdvisorModel
    """

    policy = PolicyId(help="Policy version id (linked to the account)")
    purchased_usd = FiniteFloat(help="Credits purchased, USD (linked to the account)")
    verdict = Unicode(help="Derived: the advice")
    worth_it = Bool(help="Derived: buy the credits?")

    def __init__(self, account: AccountModel | None = None, *, preset: str | None = None,
                 lang: str | None = None, **needs: Any) -> None:
        layout_kwargs = {k: needs.pop(k) for k in ("layout",) if k in needs}
        super().__init__(**layout_kwargs)
        self._ = _ = widget_translator(lang)
        self.lang = _.lang
        self.account = account if account is not None else AccountModel()
        self.model = AdvisorModel(self.account, lang=self.lang, **needs)
        if preset is not None:
            self.model.preset = preset
        self._notice = Notice(_)
        self._syncing = False
        m = self.model
        style = {"description_width": "initial"}
        self._picker = policy_picker(self.account.policy, _)
        self._caption = W.HTML()
        # "auto": each button as wide as its label (the default width cut "heavy developer ...").
        self._preset = W.ToggleButtons(options=[(_(name), name) for name in [*PRESETS, CUSTOM]],
                                       value=m.preset, description=_("I am a"),
                                       style={**style, "button_width": "auto"})
        self._preset.add_class("orw-advisor-preset")
        self._free = W.IntText(value=m.free_calls_per_day, description=_("free calls a day"),
                               style=style, layout=W.Layout(width="200px"))
        self._peak = W.IntText(value=m.peak_free_per_minute,
                               description=_("in the busiest minute"),
                               style=style, layout=W.Layout(width="220px"))
        self._paid = W.FloatText(value=m.paid_usd_per_day, description=_("paid spend $ a day"),
                                 style=style, layout=W.Layout(width="210px"))
        self._rps = W.FloatText(value=m.needed_rps, description=_("needed paid RPS"), style=style,
                                layout=W.Layout(width="200px"))
        self._purchased = W.FloatText(value=self.account.purchased_usd,
                                      description=_("credits purchased so far $"), style=style,
                                      layout=W.Layout(width="270px"))
        self._readout = W.HTML()
        self._readout.add_class("orw-advisor-readout")
        self.children = [
            self._picker, self._caption, self._preset,
            W.HBox([self._free, self._peak]),
            W.HBox([self._paid, self._rps, self._purchased]),
            self._readout, self._notice.widget,
        ]
        self.add_class("orw-advisor")

        link((self.account, "policy"), (self, "policy"))
        link((self.account, "purchased_usd"), (self, "purchased_usd"))
        dlink((m, "verdict"), (self, "verdict"))
        dlink((m, "worth_it"), (self, "worth_it"))
        link((self.account, "policy"), (self._picker, "value"))

        guard = guarded(self._notice)
        for widget, owner, name, label in (
            (self._free, m, "free_calls_per_day", _("free calls a day")),
            (self._peak, m, "peak_free_per_minute", _("busiest minute")),
            (self._paid, m, "paid_usd_per_day", _("paid spend")),
            (self._rps, m, "needed_rps", _("needed RPS")),
            (self._purchased, self.account, "purchased_usd", _("credits purchased")),
        ):
            widget.observe(guard(self._number_handler(owner, name, label)), names="value")
        self._preset.observe(guard(self._on_preset), names="value")
        m.observe(guard(self._render), names="revision")
        m.observe(guard(lambda _c: self._echo()), names="preset")
        self._render()

    def __repr__(self) -> str:
        return (f"TopUpAdvisor(policy={self.policy!r}, preset={self.model.preset!r}, "
                f"verdict={self.verdict!r})")

    def _number_handler(self, owner: Any, name: str, label: str):
        def handler(change: dict[str, Any]) -> None:
            if not self._syncing:
                set_number(owner, name, change["new"], self._notice, label)
                self._echo()
        return handler

    def _on_preset(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self.model.preset = change["new"]

    def _echo(self) -> None:
        m = self.model
        self._syncing = True
        try:
            self._preset.value = m.preset
            self._free.value = m.free_calls_per_day
            self._peak.value = m.peak_free_per_minute
            self._paid.value = m.paid_usd_per_day
            self._rps.value = m.needed_rps
            self._purchased.value = self.account.purchased_usd
        finally:
            self._syncing = False

    def _render(self, change: Any = None) -> None:
        _ = self._
        m = self.model
        self._echo()
        self._caption.value = policy_caption(self.account.policy, _)
        color = CSS["ok"] if m.worth_it else CSS["accent"]
        threshold = topup_threshold(self.account.version)
        items = "".join(f"<li>{esc(r)}</li>" for r in m.reasons)
        verdict = esc(_(m.verdict))
        quotas = html_text(
            _("(free calls a day: {now} now, {topped} topped up)"),
            now=f'<span class="orw-quota-now">{fmt_count(m.quota_now)}</span>',
            topped=f'<span class="orw-quota-topped">{fmt_count(m.quota_topped_up)}</span>')
        self._readout.value = (
            f'<div style="color:{CSS["fg"]}">' + html_text(
                _("A {threshold}-credit top-up: {verdict} {quotas}"),
                threshold=esc(f"{threshold:g}"),
                verdict=(f'<b><span class="orw-verdict" style="color:{color};font-size:1.25em">'
                         f"{verdict}</span></b>"),
                quotas=f'<span style="color:{CSS["muted"]}">{quotas}</span>')
            + f'</div><ul style="color:{CSS["fg"]};margin:4px 0">{items}</ul>'
        )
