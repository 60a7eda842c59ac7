"""Top-up to daily free quota: the toggle, the purchases field, the versions, and "my pace"."""

from __future__ import annotations

import re
from typing import Any

import ipywidgets as W
from traitlets import (
    Bool,
    Float,
    HasTraits,
    Instance,
    Int,
    TraitError,
    Unicode,
    default,
    dlink,
    link,
    validate,
)

from ..engine import SECONDS_PER_DAY
from ..i18n import N_, Translator
from ..policy import POLICIES, TOPUP_THRESHOLD_USD, daily_free_quota, free_per_minute
from ._common import (
    COLORS,
    CSS,
    ENGLISH,
    Notice,
    esc,
    figure_layout,
    figure_widget,
    fmt_clock,
    fmt_count,
    fmt_duration,
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

__all__ = ["FreeQuotaModel", "FreeQuotaExplorer", "parse_hhmm", "TOPPED_UP_LABEL", "BAR_GEOMETRY",
           "bar_centre"]

#: Legend of the topped-up bars (the threshold comes from the policy), and in English: the
#: stable name (``meta``) code and tests find the trace by, whatever the language shows.
TOPPED_UP_TEMPLATE = N_("topped up ({threshold}+ credits purchased)")
TOPPED_UP_LABEL = TOPPED_UP_TEMPLATE.format(threshold=f"{TOPUP_THRESHOLD_USD:g}")
NOT_TOPPED_UP = N_("not topped up")
YOUR_QUOTA = N_("your quota")

#: The two bars of a version: (offset, width) in x units around the version's position, set
#: explicitly so the "your quota" marker can sit on the centre of the bar that is the account's.
BAR_GEOMETRY = {"low": (-0.4, 0.38), "high": (0.02, 0.38)}


def _toggle_icon(on: bool) -> str:
    """A check mark only while the toggle is on: a ✔ on an untoggled button read as "done"."""
    return "check" if on else ""


def bar_centre(position: int, which: str) -> float:
    """x of the centre of a version's ``"low"`` or ``"high"`` bar."""
    offset, width = BAR_GEOMETRY[which]
    return position + offset + width / 2


_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_hhmm(text: str, _: Translator = ENGLISH) -> int:
    """``"09:30"`` -> seconds after 00:00; ``ValueError`` naming the field otherwise (in ``_``'s
    language)."""
    match = _HHMM.match(str(text))
    if not match:
        raise ValueError(_("start time: expected HH:MM (24-hour, UTC), got {value}").format(
            value=repr(text)))
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        raise ValueError(_("start time: {value} is not a time of day (00:00 to 23:59)").format(
            value=repr(text)))
    return hours * 3600 + minutes * 60


class FreeQuotaModel(HasTraits):
    """Daily free-model quota for the account, and how long it lasts at a steady pace.

    Parameters
    ----------
    account : AccountModel
    calls_per_hour : float
        Steady pace of free-model calls (attempts: rejected ones count too). Negative clamps to 0.
    start_utc : str
        When the day's calls begin, ``HH:MM`` UTC (a bad string raises ``TraitError``).

    Attributes
    ----------
    daily_quota : int
        By the rule OpenRouter applies: credits *purchased* (``daily_free_quota``).
    quota_by_balance : int
        By the article's wording ("a balance of $10"): the same function fed the balance.
    rule_differs : bool
        The two readings disagree for this account.
    per_minute : int
        Free-model requests per minute.
    exhausted_at_s : float or None
        Seconds after 00:00 UTC when the quota runs out at this pace; ``None`` when it lasts
        until the 00:00 UTC reset.
    blocked : bool
        The balance is below $0: every call, free models included, answers 402 whatever the
        quota; ``usable_today`` is then 0 while ``daily_quota`` still names the tier.
    """

    account = Instance(AccountModel, help="The account whose purchases set the tier")
    calls_per_hour = FiniteFloat(10.0, help="Steady pace of free-model calls per hour (>= 0)")
    start_utc = Unicode("09:00", help="Time the calls start, HH:MM UTC")
    daily_quota = Int(0, help="Derived: free-model requests per UTC day (purchase rule)")
    quota_by_balance = Int(0, help="Derived: the quota if the rule tested the balance (article)")
    rule_differs = Bool(False, help="Derived: the purchase and balance readings disagree")
    per_minute = Int(0, help="Derived: free-model requests per clock minute")
    pace_per_minute = Float(0.0, help="Derived: calls_per_hour / 60")
    over_per_minute = Bool(False, help="Derived: the pace exceeds the per-minute limit")
    lasts_s = Float(None, allow_none=True, help="Derived: seconds the quota lasts (None: all day)")
    exhausted_at_s = Float(None, allow_none=True,
                           help="Derived: seconds after 00:00 UTC the quota runs out (None: never)")
    free_left_today = Int(None, allow_none=True,
                          help="Derived: quota minus free_used_today, when the account knows it")
    blocked = Bool(False, help="Derived: the balance is below $0, so every model answers 402")
    usable_today = Int(0, help="Derived: free calls that can succeed today (0 while blocked)")

    @default("account")
    def _default_account(self) -> AccountModel:
        return AccountModel()

    def __init__(self, account: AccountModel | None = None, **kwargs: Any) -> None:
        super().__init__(**({"account": account} if account is not None else {}), **kwargs)
        self.account.observe(self._update, names=["purchased_usd", "balance_usd", "policy",
                                                  "free_used_today"])
        self.observe(self._update, names=["calls_per_hour", "start_utc"])
        self._update()

    @validate("calls_per_hour")
    def _clamp_pace(self, proposal):
        return max(0.0, proposal["value"])

    @validate("start_utc")
    def _check_start(self, proposal):
        try:
            return fmt_clock(parse_hhmm(proposal["value"]))
        except ValueError as exc:
            raise TraitError(str(exc)) from None

    @property
    def start_s(self) -> int:
        return parse_hhmm(self.start_utc)

    def _update(self, change: Any = None) -> None:
        acct = self.account
        version = acct.version
        quota = daily_free_quota(acct.purchased_usd, version)
        by_balance = daily_free_quota(max(0.0, acct.balance_usd), version)
        per_min = free_per_minute(version)
        pace = self.calls_per_hour
        # Rejected attempts count toward the day ([doc]), so the day fills at the attempted pace
        # even when the per-minute limit turns some of them away.
        lasts = quota / pace * 3600 if pace > 0 else None
        start = self.start_s
        exhausted = None
        if lasts is not None and start + lasts < SECONDS_PER_DAY:
            exhausted = start + lasts
        used = acct.free_used_today
        # A negative balance answers 402 before any quota is looked at, free models included
        # (the engine's check order); the tier itself stays what it is.
        blocked = acct.balance_usd < 0
        with self.hold_trait_notifications():
            self.blocked = blocked
            self.usable_today = 0 if blocked else quota
            self.daily_quota = quota
            self.quota_by_balance = by_balance
            self.rule_differs = quota != by_balance
            self.per_minute = per_min
            self.pace_per_minute = pace / 60
            self.over_per_minute = pace / 60 > per_min
            self.lasts_s = lasts
            self.exhausted_at_s = exhausted
            self.free_left_today = None if used is None else max(0, quota - used)

    @property
    def exhausted_at(self) -> str | None:
        """``HH:MM`` UTC, or ``None`` when the quota lasts until the reset."""
        return None if self.exhausted_at_s is None else fmt_clock(self.exhausted_at_s)


class FreeQuotaExplorer(W.VBox):
    """Explore the daily free-model quota: top-up toggle, purchases, versions and pace.

    Parameters
    ----------
    account : AccountModel, optional
        Shared account (a new one if omitted).
    policy, purchased_usd, topped_up, calls_per_hour : optional
        Initial values.
    lang : {"en", "ja", "zh"}, optional
        The language of its text (see :func:`orwidgets.i18n.get_language`: a language set with
        :func:`orwidgets.set_language` wins, then this, then ``ORWIDGETS_LANG``); kept for the
        widget's life.

    Attributes
    ----------
    policy, purchased_usd, topped_up : linked to the account.
    calls_per_hour, start_utc : linked to the model.
    daily_quota : derived.
    model : FreeQuotaModel
    figure : plotly.graph_objects.FigureWidget
        Bars ``"not topped up"`` and ``"topped up"`` per version, marker ``"your quota"`` (each
        trace's ``meta``, in English; its ``name`` is in the widget's language).
    """

    policy = PolicyId(help="Policy version id (linked to the account)")
    purchased_usd = FiniteFloat(help="Credits purchased all-time, USD (linked to the account)")
    topped_up = Bool(help="10+ credits purchased (linked to the account)")
    calls_per_hour = FiniteFloat(help="Your pace of free-model calls per hour")
    start_utc = Unicode(help="When your calls start, HH:MM UTC")
    daily_quota = Int(help="Derived: free-model requests per UTC day")

    def __init__(self, account: AccountModel | None = None, *, policy: str | None = None,
                 purchased_usd: float | None = None, topped_up: bool | None = None,
                 calls_per_hour: float | None = None, lang: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ = _ = widget_translator(lang)
        self.lang = _.lang
        self.account = account if account is not None else AccountModel()
        if policy is not None:
            self.account.policy = policy
        if purchased_usd is not None:
            self.account.purchased_usd = purchased_usd
        if topped_up is not None:
            self.account.topped_up = topped_up
        self.model = FreeQuotaModel(self.account)
        if calls_per_hour is not None:
            self.model.calls_per_hour = calls_per_hour
        self._notice = Notice(_)
        self._syncing = False

        threshold = f"{TOPUP_THRESHOLD_USD:g}"
        self._picker = policy_picker(self.account.policy, _)
        self._caption = W.HTML()
        self._toggle = W.ToggleButton(
            value=self.account.topped_up,
            description=_("topped up {threshold}+ credits").format(threshold=threshold),
            tooltip=_("Have {threshold} or more credits been purchased on this account (ever)?"
                      ).format(threshold=threshold),
            icon=_toggle_icon(self.account.topped_up), layout=W.Layout(width="auto"),
        )
        self._toggle.add_class("orw-topup-toggle")
        self._purchased = W.FloatText(value=self.account.purchased_usd,
                                      description=_("credits purchased $"), step=1.0,
                                      style={"description_width": "initial"},
                                      layout=W.Layout(width="240px"))
        self._purchased.add_class("orw-purchased-input")
        self._balance = W.FloatText(value=self.account.balance_usd, description=_("balance now $"),
                                    step=1.0, style={"description_width": "initial"},
                                    layout=W.Layout(width="200px"))
        self._balance.add_class("orw-quota-balance-input")
        self._readout = W.HTML()
        self._readout.add_class("orw-quota-readout")
        self._pace = W.FloatText(value=self.model.calls_per_hour,
                                 description=_("my calls per hour"),
                                 step=1.0, style={"description_width": "initial"},
                                 layout=W.Layout(width="220px"))
        self._pace.add_class("orw-pace-input")
        self._start = W.Text(value=self.model.start_utc, description=_("starting at (UTC)"),
                             style={"description_width": "initial"},
                             layout=W.Layout(width="200px"))
        self._start.add_class("orw-start-input")
        self._pace_readout = W.HTML()
        self._pace_readout.add_class("orw-pace-readout")
        self.figure = self._make_figure()

        self.children = [
            self._picker,
            self._caption,
            W.HBox([self._toggle, self._purchased, self._balance]),
            self._readout,
            W.HBox([self._pace, self._start]),
            self._pace_readout,
            self._notice.widget,
            self.figure,
        ]
        self.add_class("orw-quota-explorer")

        link((self.account, "policy"), (self, "policy"))
        link((self.account, "purchased_usd"), (self, "purchased_usd"))
        link((self.account, "topped_up"), (self, "topped_up"))
        link((self.model, "calls_per_hour"), (self, "calls_per_hour"))
        link((self.model, "start_utc"), (self, "start_utc"))
        dlink((self.model, "daily_quota"), (self, "daily_quota"))
        link((self.account, "policy"), (self._picker, "value"))

        guard = guarded(self._notice)
        self._toggle.observe(guard(self._on_toggle), names="value")
        self._purchased.observe(guard(self._on_purchased), names="value")
        self._balance.observe(guard(self._on_balance), names="value")
        self._pace.observe(guard(self._on_pace), names="value")
        self._start.observe(guard(self._on_start), names="value")
        self.account.observe(guard(self._render), names=["purchased_usd", "balance_usd",
                                                         "policy", "free_used_today"])
        self.model.observe(guard(self._render_pace), names=["calls_per_hour", "start_utc"])
        self._render()

    def __repr__(self) -> str:
        return (
            f"FreeQuotaExplorer(policy={self.policy!r}, purchased_usd={self.purchased_usd!r}, "
            f"topped_up={self.topped_up!r}, daily_quota={self.daily_quota!r})"
        )

    # -- inputs --------------------------------------------------------------------------------

    def _on_toggle(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self.account.topped_up = bool(change["new"])

    def _on_purchased(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        set_number(self.account, "purchased_usd", change["new"], self._notice,
                   self._("credits purchased"))
        self._echo()

    def _on_balance(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        set_number(self.account, "balance_usd", change["new"], self._notice, self._("balance"))
        self._echo()

    def _on_pace(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        set_number(self.model, "calls_per_hour", change["new"], self._notice,
                   self._("calls per hour"))
        self._echo()

    def _on_start(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        _ = self._
        try:
            parse_hhmm(change["new"], _)  # the reader's language; the model says it in English
            self.model.start_utc = change["new"]
        except (ValueError, TraitError) as exc:
            self._notice.show(_("{error}; kept {kept}.").format(error=exc,
                                                                kept=self.model.start_utc))
        else:
            self._notice.clear()

    def _echo(self) -> None:
        self._syncing = True
        try:
            self._toggle.value = self.account.topped_up
            self._toggle.icon = _toggle_icon(self.account.topped_up)
            self._purchased.value = self.account.purchased_usd
            self._balance.value = self.account.balance_usd
            self._pace.value = self.model.calls_per_hour
        finally:
            self._syncing = False

    # -- outputs -------------------------------------------------------------------------------

    def _render(self, change: Any = None) -> None:
        self._echo()
        _ = self._
        acct, m = self.account, self.model
        version = acct.version
        self._caption.value = policy_caption(version, _)
        threshold = topup_threshold(version)
        per_minute = (f'<b><span class="orw-per-minute">{fmt_count(m.per_minute)}</span></b>')
        if m.blocked:
            quota = _.ngettext("{n} request", "{n} requests", plural_n(m.daily_quota)).format(
                n=fmt_count(m.daily_quota))
            lines = [
                f'<div class="orw-quota-blocked" style="color:{CSS["fg"]};font-size:1.05em">'
                + html_text(
                    _("Free-model requests that can succeed today: {zero}. A balance of {balance} "
                      "answers 402 on every model, free ones included, before any quota counts. "
                      "Once the balance is above $0 the quota is {quota} per UTC day and "
                      "{per_minute} per minute."),
                    zero=(f'<b><span class="orw-daily-quota" style="color:{CSS["error"]};'
                          'font-size:1.3em">0</span></b>'),
                    balance=esc(fmt_usd(acct.balance_usd, _)), quota=esc(quota),
                    per_minute=per_minute)
                + "</div>"
            ]
        else:
            lines = [
                f'<div style="color:{CSS["fg"]};font-size:1.05em">'
                + html_text(
                    _.ngettext("Daily free-model quota: {quota} request per UTC day, and "
                               "{per_minute} per minute.",
                               "Daily free-model quota: {quota} requests per UTC day, and "
                               "{per_minute} per minute.", plural_n(m.daily_quota)),
                    quota=(f'<b><span class="orw-daily-quota" style="color:{CSS["accent"]};'
                           f'font-size:1.3em">{fmt_count(m.daily_quota)}</span></b>'),
                    per_minute=per_minute)
                + "</div>"
            ]
        muted = f'<div style="color:{CSS["muted"]}">'
        if not version.has_topup_tier:
            lines.append(muted + html_text(
                _("Under '{policy}' everyone gets the same daily quota: buying credits does not "
                  "change it."), policy=esc(version.id)) + "</div>")
        else:
            lines.append(muted + html_text(
                _("Rule: {threshold} or more in credits purchased (all-time) unlocks {high}; "
                  "below that, {low}. This account: {purchased} purchased, balance {balance}."),
                threshold=esc(fmt_usd(threshold)), high=esc(fmt_count(version.free_daily_high)),
                low=esc(fmt_count(version.free_daily_low)),
                purchased=esc(fmt_usd(acct.purchased_usd)),
                balance=esc(fmt_usd(acct.balance_usd))) + "</div>")
            if not m.rule_differs:
                lines.append(muted + html_text(
                    _("The article words the rule as a balance of {threshold}: here both readings "
                      "agree; lower the balance below the purchases to see where they part."),
                    threshold=esc(fmt_usd(threshold))) + "</div>")
            else:
                lines.append(
                    f'<div class="orw-rule-differs" style="color:{CSS["warn"]}">' + html_text(
                        _("The article says \"a balance of {threshold}\": read that way this "
                          "account would get {by_balance} a day, not {quota}. OpenRouter tests "
                          "credits purchased, so spending the balance does not lose the tier."),
                        threshold=esc(fmt_usd(threshold)),
                        by_balance=esc(fmt_count(m.quota_by_balance)),
                        quota=esc(fmt_count(m.daily_quota))) + "</div>")
        if m.free_left_today is not None:
            lines.append(muted + html_text(
                _("Used today: {used}; left: {left} (as the account panel read them)."),
                used=esc(fmt_count(acct.free_used_today)),
                left=esc(fmt_count(m.free_left_today))) + "</div>")
        self._readout.value = "".join(lines)
        self._render_pace()
        self._move_marker()

    def _render_pace(self, change: Any = None) -> None:
        _ = self._
        m = self.model
        muted = CSS["muted"]
        pace = fmt_count(m.calls_per_hour)
        many = plural_n(m.calls_per_hour)
        quota = _.ngettext("{n} call", "{n} calls", plural_n(m.daily_quota)).format(
            n=fmt_count(m.daily_quota))
        if m.blocked:
            text = _.ngettext(
                "At {pace} call an hour, every call gets a 402 until the balance is above $0 "
                "again; the {quota} of the day wait for that.",
                "At {pace} calls an hour, every call gets a 402 until the balance is above $0 "
                "again; the {quota} of the day wait for that.", many)
        elif m.calls_per_hour <= 0:
            text = _.ngettext("At {pace} call an hour the quota lasts all day.",
                              "At {pace} calls an hour the quota lasts all day.", many)
        elif m.exhausted_at is None:
            text = _.ngettext(
                "At {pace} call an hour from {start} UTC, the {quota} last until the reset at "
                "00:00 UTC.",
                "At {pace} calls an hour from {start} UTC, the {quota} last until the reset at "
                "00:00 UTC.", many)
        else:
            text = _.ngettext(
                "At {pace} call an hour from {start} UTC, the {quota} run out after {lasts}, at "
                "{end} UTC; then every call gets a 429 until the reset at 00:00 UTC.",
                "At {pace} calls an hour from {start} UTC, the {quota} run out after {lasts}, at "
                "{end} UTC; then every call gets a 429 until the reset at 00:00 UTC.", many)
        text = text.format(pace=pace, quota=quota, start=m.start_utc,
                           lasts=fmt_duration(m.lasts_s, _), end=m.exhausted_at)
        parts = [f'<div class="orw-pace-text" style="color:{CSS["fg"]}">{esc(text)}</div>']
        if m.over_per_minute:
            parts.append(f'<div style="color:{CSS["warn"]}">' + esc(_(
                "{pace} a minute is above the {limit} per minute limit: some calls get a "
                "per-minute 429, and rejected attempts still count toward the day."
            ).format(pace=fmt_count(m.pace_per_minute), limit=fmt_count(m.per_minute))) + "</div>")
        else:
            parts.append(f'<div style="color:{muted}">' + esc(_(
                "Rejected attempts count toward the day too: retrying a per-day 429 only uses up "
                "more.")) + "</div>")
        self._pace_readout.value = "".join(parts)

    def _make_figure(self) -> Any:
        _ = self._
        ids = list(POLICIES)
        low, high = [], []
        for pid in ids:
            version = POLICIES[pid]
            threshold = topup_threshold(version)
            low.append(daily_free_quota(0.0, version))
            high.append(daily_free_quota(threshold, version))
        fig = figure_widget(
            layout=figure_layout(
                title={"text": _("Free-model requests per UTC day, by policy version"),
                       "x": 0.02},
                # Numeric positions with the ids as tick labels: a marker at x="2025-04" made
                # plotly re-guess the axis as dates in the browser.
                xaxis={"title": {"text": _("policy version")}, "type": "linear",
                       "tickmode": "array", "tickvals": list(range(len(ids))), "ticktext": ids,
                       "range": [-0.5, len(ids) - 0.5], "zeroline": False},
                yaxis={"title": {"text": _("requests per day")}, "rangemode": "tozero"},
                height=320,
            )
        )
        positions = list(range(len(ids)))
        topped_up = _(TOPPED_UP_TEMPLATE).format(threshold=f"{TOPUP_THRESHOLD_USD:g}")
        # Explicit offset and width (plotly then draws these bars side by side without its group
        # layout), so the marker below knows where each bar's centre is.
        for meta, name, which, values, color in (
                (NOT_TOPPED_UP, _(NOT_TOPPED_UP), "low", low, COLORS["low"]),
                (TOPPED_UP_LABEL, topped_up, "high", high, COLORS["high"])):
            offset, width = BAR_GEOMETRY[which]
            fig.add_bar(name=name, meta=meta, x=positions, y=values, customdata=ids,
                        marker_color=color, offset=offset, width=width,
                        text=[fmt_count(v) for v in values], textposition="outside")
        fig.add_scatter(name=_(YOUR_QUOTA), meta=YOUR_QUOTA, mode="markers+text", x=[], y=[],
                        text=[], textposition="middle right", textfont={"color": COLORS["you"]},
                        cliponaxis=False, hoverinfo="text",
                        marker={"symbol": "diamond", "size": 14, "color": COLORS["you"],
                                "line": {"width": 1.5, "color": "white"}})
        fig.sync_state()  # the traces added above, for views that connect later
        return fig

    def _move_marker(self) -> None:
        """The marker sits on the centre of the account's own bar: the topped-up bar when the
        quota is the high tier (or, where both bars are equal, when the account is topped up).
        With a negative balance it drops to 0 and says 402."""
        _ = self._
        acct, m = self.account, self.model
        version = acct.version
        position = list(POLICIES).index(acct.policy)
        high = version.has_topup_tier and m.daily_quota == version.free_daily_high
        which = "high" if high or (not version.has_topup_tier and acct.topped_up) else "low"
        marker = next(t for t in self.figure.data if t.meta == YOUR_QUOTA)
        with self.figure.batch_update():
            marker.x = [bar_centre(position, which)]
            marker.y = [m.usable_today]
            marker.text = ["402"] if m.blocked else [""]
            marker.hovertext = [
                _("a balance below $0 answers 402, free models included") if m.blocked
                else _("your quota: {quota} a day").format(quota=fmt_count(m.daily_quota))]
