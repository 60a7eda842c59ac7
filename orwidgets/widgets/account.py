"""The account panel: what ``GET /api/v1/key`` and ``GET /api/v1/credits`` say about an account,
and about the key itself: its own spending limit, what is left of it and when its window resets.

Works against the in-kernel emulator (default, no key needed: pick a demo account) and against the
real API with the reader's own key. The key never enters a synced trait, a repr or a message: it
comes from ``OPENROUTER_API_KEY`` or from a password box that is emptied the moment it is read
(see :class:`~orwidgets.widgets._common.KeyField`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import ipywidgets as W
from traitlets import Bool, Enum, Float, HasTraits, Instance, Int, Unicode, link

from .._secret import SecretKey
from ..engine import day_reset_ms, window_reset_s
from ..i18n import N_, Translator
from ..policy import LIMIT_RESETS, POLICIES, PolicyVersion, daily_free_quota, get_policy
from ._common import (
    CSS,
    ENGLISH,
    KeyField,
    Notice,
    esc,
    fmt_clock,
    fmt_count,
    fmt_duration,
    fmt_usd,
    guarded,
    html_text,
    plural_n,
    policy_caption,
    policy_picker,
    widget_translator,
)
from ._model import AccountModel, PolicyId

__all__ = ["AccountReading", "read_account", "AccountStatus", "AccountPanel", "TARGETS"]

#: Where the panel can read from (id -> the picker's label, translated when shown).
TARGETS = {"emulator": N_("in-kernel emulator"), "openrouter": N_("OpenRouter API"),
           "custom": N_("custom URL")}

#: The first version whose GET /key reports today's free requests (free_model_daily_requests).
_FIRST_FREE_COUNTER = next(v.id for v in POLICIES.values() if v.key_shape == "2026")

_FORBIDDEN_NOTE = N_(
    "GET /api/v1/credits answered 403: under the current docs only management keys may read "
    "credits, so this key cannot see the balance or the credits purchased. Use a management key, "
    "or read them at Settings > Credits on openrouter.ai. The rest of the panel comes from "
    "GET /api/v1/key."
)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


#: How the panel names a key-limit period (``limit_reset``; ``None``: for all time).
_PERIODS = {"daily": N_("a day"), "weekly": N_("a week (Monday to Sunday, UTC)"),
            "monthly": N_("a calendar month (UTC)"), None: N_("for all time (it never resets)")}


@dataclass
class AccountReading:
    """What two calls told us. ``None`` means "not reported" (older API shape, or not allowed)."""

    ok: bool = False
    message: str = ""
    key_label: str | None = None
    is_management: bool | None = None
    is_free_tier: bool | None = None
    usage_usd: float | None = None
    free_used: int | None = None
    free_limit: int | None = None
    free_remaining: int | None = None
    #: Where the free counts came from: ``"GET /key"`` (``free_model_daily_requests``),
    #: ``"emulator engine"`` (the in-kernel emulator, for API versions whose GET /key has no such
    #: field), or ``None`` (nobody reported them).
    free_source: str | None = None
    rate_limit: str | None = None
    #: The key's own spending limit (``GET /key``: ``limit``, ``limit_remaining``,
    #: ``limit_reset``); ``has_limit_fields`` is false where the answer has none of them.
    has_limit_fields: bool = False
    limit_usd: float | None = None
    limit_remaining_usd: float | None = None
    limit_reset: str | None = None
    usage_daily_usd: float | None = None
    credits_status: str = "not read"  # "ok", "forbidden", "error", "not read"
    credits_message: str = ""
    purchased_usd: float | None = None
    balance_usd: float | None = None
    now: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def seconds_to_reset(self) -> float:
        """Until the next 00:00 UTC, when the free daily counter resets."""
        return day_reset_ms(self.now) / 1000 - self.now

    @property
    def limit_resets_at(self) -> float | None:
        """Unix seconds when the key's limit window starts again (the next 00:00 UTC, Monday or
        1st, as the engine counts it); ``None`` for no limit or a lifetime one."""
        if self.limit_usd is None or self.limit_reset not in LIMIT_RESETS:
            return None
        return window_reset_s(self.limit_reset, self.now)

    @property
    def limit_spent(self) -> bool:
        """The key's limit is used up: its calls answer 403 until the window resets."""
        return self.limit_remaining_usd is not None and self.limit_remaining_usd <= 0


def _explain_failure(what: str, result: Any, _: Translator = ENGLISH) -> str:
    """Why a call failed, around the answer's own message (OpenRouter's, never translated)."""
    status = getattr(result, "status", None)
    message = getattr(result, "message", None) or ""
    if status is None:
        if not message:
            return _("{call}: no answer (network error).").format(call=what)
        return _("{call}: no answer ({message}).").format(call=what, message=message)
    if status == 401:
        return _("{call}: 401, the key was not accepted ({message}).").format(
            call=what, message=message)
    return _("{call}: HTTP {status} ({message}).").format(call=what, status=status,
                                                         message=message)


def read_account(client: Any, now: float, _: Translator = ENGLISH) -> AccountReading:
    """Call ``client.get_key()`` and ``client.get_credits()`` and parse both.

    ``client`` is anything with those two methods returning results with ``.status``, ``.body``
    and ``.message`` (an :class:`orwidgets.client.OpenRouterClient`, or a fake in tests). Never
    raises for an HTTP or network failure: those become ``ok=False`` and a message (in ``_``'s
    language, around the answer's own message).
    """
    reading = AccountReading(now=now)
    key = client.get_key()
    if getattr(key, "status", None) != 200 or not isinstance(getattr(key, "body", None), dict):
        reading.message = _explain_failure("GET /api/v1/key", key, _)
        return reading
    data = key.body.get("data") or {}
    reading.ok = True
    reading.key_label = data.get("label") if isinstance(data.get("label"), str) else None
    reading.is_management = data.get("is_management_key") if isinstance(
        data.get("is_management_key"), bool) else None
    reading.is_free_tier = data.get("is_free_tier") if isinstance(
        data.get("is_free_tier"), bool) else None
    reading.usage_usd = _num(data.get("usage"))
    free = data.get("free_model_daily_requests")
    if isinstance(free, dict):
        reading.free_used = _int(free.get("used"))
        reading.free_limit = _int(free.get("limit"))
        reading.free_remaining = _int(free.get("remaining"))
        reading.free_source = "GET /key"
    if any(name in data for name in ("limit", "limit_remaining", "limit_reset")):
        reading.has_limit_fields = True
        reading.limit_usd = _num(data.get("limit"))
        reading.limit_remaining_usd = _num(data.get("limit_remaining"))
        reset = data.get("limit_reset")
        reading.limit_reset = reset if isinstance(reset, str) else None
        reading.usage_daily_usd = _num(data.get("usage_daily"))
    rate = data.get("rate_limit")
    if isinstance(rate, dict) and rate.get("requests") not in (None, -1):
        reading.rate_limit = _("{requests} requests per {interval}").format(
            requests=rate.get("requests"), interval=rate.get("interval"))

    credits = client.get_credits()
    status = getattr(credits, "status", None)
    body = getattr(credits, "body", None)
    if status == 200 and isinstance(body, dict) and isinstance(body.get("data"), dict):
        total = _num(body["data"].get("total_credits"))
        used = _num(body["data"].get("total_usage"))
        reading.credits_status = "ok"
        reading.purchased_usd = total
        if total is not None and used is not None:
            reading.balance_usd = total - used
    elif status == 403:
        reading.credits_status = "forbidden"
        reading.credits_message = _(_FORBIDDEN_NOTE)
    else:
        reading.credits_status = "error"
        reading.credits_message = _explain_failure("GET /api/v1/credits", credits, _)
    reading.message = "read"
    return reading


class AccountStatus(HasTraits):
    """The last reading as traits (no widgets), so other views can observe it."""

    connected = Bool(False, help="Whether the last refresh read GET /key")
    message = Unicode("not read yet", help="Outcome of the last refresh")
    reading = Instance(AccountReading, allow_none=True, help="The last reading")
    revision = Int(0, help="Bumped after every refresh")


class AccountPanel(W.VBox):
    """Balance, purchases, tier, today's free requests and the reset, read from an account.

    Parameters
    ----------
    account : AccountModel, optional
        The shared account; a successful read writes balance, purchases and today's free count
        into it, so the other views follow the real (or emulated) account.
    target : {"emulator", "openrouter", "custom"}
        Default ``"emulator"`` (started on the first refresh, never at construction).
    base_url : str, optional
        For ``"custom"`` (e.g. another emulator's ``api_base``).
    demo_account : str
        Which emulator demo key to read: an account's (``"free"``, ``"topped_up"``, ``"five"``,
        ``"negative"``, ``"management"``, ``"small"``, ``"team"``) or ``"member"``, the key of
        ``team`` with a daily limit, spent at start.
    api_key : SecretKey or str, optional
        A key for ``"openrouter"``/``"custom"`` (otherwise ``OPENROUTER_API_KEY`` or the password
        box). Kept in memory only.
    client_factory : callable, optional
        ``client_factory(base_url, api_key) -> client`` with ``get_key()``/``get_credits()``;
        default :class:`orwidgets.client.OpenRouterClient`.
    emulator_factory : callable, optional
        Returns a running emulator handle (``api_base``, ``keys``, ``emulator``); default
        :func:`orwidgets.emulator.start`.
    clock : callable, optional
        Unix seconds for the reset countdown; default the emulator's clock for the emulator target,
        else :func:`time.time`.
    lang : {"en", "ja", "zh"}, optional
        The language of its text (:func:`orwidgets.set_language` wins, then this, then
        ``ORWIDGETS_LANG``); kept for the widget's life. What the API answered (a key's label,
        an error's message) is shown as it came.
    """

    policy = PolicyId(help="Policy version id (linked to the account)")
    target = Enum(list(TARGETS), "emulator", help="Where to read the account from")
    balance_usd = Float(None, allow_none=True, help="Derived: balance from GET /credits")
    purchased_usd = Float(None, allow_none=True, help="Derived: total_credits from GET /credits")
    free_used = Int(None, allow_none=True, help="Derived: free requests used today")
    free_remaining = Int(None, allow_none=True, help="Derived: free requests left today")

    def __init__(self, account: AccountModel | None = None, *, target: str = "emulator",
                 base_url: str | None = None, demo_account: str = "topped_up",
                 api_key: SecretKey | str | None = None,
                 client_factory: Callable[[str, SecretKey | None], Any] | None = None,
                 emulator_factory: Callable[[], Any] | None = None,
                 clock: Callable[[], float] | None = None, lang: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ = _ = widget_translator(lang)
        self.lang = _.lang
        self.account = account if account is not None else AccountModel()
        self.status = AccountStatus()
        self._client_factory = client_factory
        self._emulator_factory = emulator_factory
        self._clock = clock
        self._handle: Any = None
        self._notice = Notice(_)
        self._key = KeyField(on_change=None, _=_)
        if api_key is not None:
            self._key.set_key(api_key)
        style = {"description_width": "initial"}
        self._picker = policy_picker(self.account.policy, _)
        self._caption = W.HTML()
        self._target = W.Dropdown(options=[(_(v), k) for k, v in TARGETS.items()], value=target,
                                  description=_("read from"), style=style)
        self._target.add_class("orw-account-target")
        names = self._demo_names()
        if names and demo_account not in names:
            raise ValueError(_("demo_account: {name} is not an emulator demo account; choose "
                               "one of {names}").format(name=repr(demo_account),
                                                        names=", ".join(names)))
        unavailable = _("(emulator unavailable)")
        self._demo = W.Dropdown(options=names or [unavailable],
                                value=demo_account if demo_account in names else
                                (names[0] if names else unavailable),
                                description=_("demo account"), style=style)
        self._demo.add_class("orw-demo-account")
        self._url = W.Text(value=base_url or "", placeholder="http://127.0.0.1:8000/api/v1",
                           description=_("API base"), style=style, layout=W.Layout(width="360px"))
        self._url.add_class("orw-account-url")
        self._refresh = W.Button(description=_("Read account"), icon="refresh",
                                 button_style="primary", layout=W.Layout(width="auto"))
        self._refresh.add_class("orw-account-refresh")
        self._readout = W.HTML()
        self._readout.add_class("orw-account-readout")
        self._where = W.HBox()
        self.children = [self._picker, self._caption, W.HBox([self._target, self._refresh]),
                         self._where, self._readout, self._notice.widget]
        self.add_class("orw-account-panel")

        link((self.account, "policy"), (self, "policy"))
        link((self.account, "policy"), (self._picker, "value"))
        link((self._target, "value"), (self, "target"))
        guard = guarded(self._notice)
        self._refresh.on_click(guard(lambda _b: self.refresh()))
        self.observe(guard(self._layout_target), names="target")
        self.account.observe(guard(self._render), names=["policy", "balance_usd",
                                                         "purchased_usd"])
        self._layout_target()
        self._render()

    def __repr__(self) -> str:
        key = self._key.key
        return (f"AccountPanel(target={self.target!r}, policy={self.policy!r}, "
                f"key={key.masked if key is not None else None!r}, "
                f"balance_usd={self.balance_usd!r}, purchased_usd={self.purchased_usd!r}, "
                f"connected={self.status.connected!r})")

    # -- where to read -------------------------------------------------------------------------

    @staticmethod
    def _demo_names() -> list[str]:
        try:
            from ..emulator import DEMO_ACCOUNTS, DEMO_KEYS
        except Exception:  # noqa: BLE001 - the emulator is optional for this panel
            return []
        return [demo.name for demo in DEMO_ACCOUNTS] + [demo.name for demo in DEMO_KEYS]

    def _layout_target(self, change: Any = None) -> None:
        if self.target == "emulator":
            self._where.children = [self._demo]
        elif self.target == "openrouter":
            self._where.children = [self._key.widget]
        else:
            self._where.children = [self._url, self._key.widget]

    def _emulator(self) -> Any:
        if self._handle is None:
            if self._emulator_factory is not None:
                self._handle = self._emulator_factory()
            else:
                from ..emulator import start

                self._handle = start()
        return self._handle

    def _connection(self) -> tuple[str, SecretKey | None, Callable[[], float]]:
        """Base URL, key and clock for the current target."""
        if self.target == "emulator":
            handle = self._emulator()
            name = self._demo.value
            if name not in handle.keys:
                raise ValueError(self._("demo account: {name} is not one of {names}").format(
                    name=repr(name), names=", ".join(handle.keys)))
            clock = self._clock or getattr(getattr(handle.emulator, "clock", None), "now",
                                           time.time)
            return handle.api_base, SecretKey(handle.keys[name]), clock
        if self.target == "openrouter":
            from ..client import OPENROUTER_API_BASE

            return OPENROUTER_API_BASE, self._key.key, self._clock or time.time
        url = self._url.value.strip()
        if not url:
            raise ValueError(self._("API base: type the base URL of an OpenRouter-compatible API"))
        return url, self._key.key, self._clock or time.time

    def _make_client(self, base_url: str, key: SecretKey | None) -> Any:
        if self._client_factory is not None:
            return self._client_factory(base_url, key)
        from ..client import OpenRouterClient

        return OpenRouterClient(base_url, key, timeout=15.0)

    # -- reading -------------------------------------------------------------------------------

    def refresh(self) -> AccountReading | None:
        """Read the account now (what the button does). Returns the reading, or ``None`` when no
        call could be made (no key, bad URL); the reason is shown in the panel."""
        try:
            base_url, key, clock = self._connection()
        except ValueError as exc:
            self._notice.show(str(exc))
            return None
        if key is None:
            self._notice.show(self._("No API key: set {variable} or paste a key in the box (it "
                                     "stays in Python memory).").format(
                                         variable="OPENROUTER_API_KEY"))
            return None
        self._notice.clear()
        reading = read_account(self._make_client(base_url, key), clock(), self._)
        if reading.ok and reading.free_used is None and self.target == "emulator":
            self._free_from_engine(reading, key)
        self._apply(reading)
        return reading

    def _free_from_engine(self, reading: AccountReading, key: SecretKey) -> None:
        """Before 2026 the API did not report today's free count; the in-kernel emulator's engine
        knows it, so the panel shows it, saying where it comes from."""
        engine = getattr(getattr(self._handle, "emulator", None), "engine", None)
        acct = engine.account_for_key(key.reveal()) if engine is not None else None
        if acct is None:
            return
        snap = engine.snapshot(acct.account_id, reading.now)
        reading.free_used = snap.free_used_today
        reading.free_limit = snap.free_daily_limit
        reading.free_remaining = snap.free_remaining_today
        reading.free_source = "emulator engine"

    def _apply(self, reading: AccountReading) -> None:
        st = self.status
        with st.hold_trait_notifications():
            st.reading = reading
            st.connected = reading.ok
            st.message = reading.message
        if reading.ok:
            if self.target == "emulator" and self._handle is not None:
                # The emulator knows which rules it runs: the other views should use the same.
                policy = getattr(getattr(self._handle.emulator, "policy", None), "id", None)
                if policy is not None:
                    self.account.policy = policy
            with self.account.hold_trait_notifications():
                if reading.purchased_usd is not None:
                    self.account.purchased_usd = reading.purchased_usd
                if reading.balance_usd is not None:
                    self.account.balance_usd = reading.balance_usd
                self.account.free_used_today = reading.free_used
                self.account.source = self.target
        self.balance_usd = reading.balance_usd
        self.purchased_usd = reading.purchased_usd
        self.free_used = reading.free_used
        self.free_remaining = reading.free_remaining
        st.revision += 1
        self._render()

    # -- output ----------------------------------------------------------------------------------

    def _tier(self, reading: AccountReading) -> str:
        """The daily free tier and where it really comes from under the account's version."""
        _ = self._
        version = get_policy(self.account.policy)
        if reading.free_limit is not None and reading.free_source == "GET /key":
            limit = reading.free_limit
            how = _("reported by GET /key: free_model_daily_requests.limit")
        elif reading.free_limit is not None:
            limit = reading.free_limit
            how = _("from the emulator's engine: {why}").format(
                why=_key_reports_free(version, _))
        elif reading.purchased_usd is not None:
            limit = daily_free_quota(reading.purchased_usd, version)
            how = _("worked out from {purchased} purchased under '{policy}'; {why}").format(
                purchased=fmt_usd(reading.purchased_usd), policy=version.id,
                why=_key_reports_free(version, _))
        else:
            return _("unknown: GET /key did not report it and GET /credits did not say what was "
                     "purchased")
        high = version.free_daily_high
        if high is not None and limit == high:
            text = _.ngettext("{n} free request a day, top tier ({how})",
                              "{n} free requests a day, top tier ({how})", plural_n(limit))
        else:
            text = _.ngettext("{n} free request a day, base tier ({how})",
                              "{n} free requests a day, base tier ({how})", plural_n(limit))
        return text.format(n=fmt_count(limit), how=how)

    def _render(self, change: Any = None) -> None:
        _ = self._
        self._caption.value = policy_caption(self.account.policy, _)
        reading = self.status.reading
        fg, muted = CSS["fg"], CSS["muted"]
        if reading is None:
            text = _("Not read yet: pick where to read from and press {button}. The other tabs use "
                     "balance {balance} and purchases {purchased} (set by hand).")
            button = esc(_("Read account"))
            self._readout.value = (
                f'<div style="color:{muted}">' + html_text(
                    text, button=f"<b>{button}</b>",
                    balance=esc(fmt_usd(self.account.balance_usd, _)),
                    purchased=esc(fmt_usd(self.account.purchased_usd, _))) + "</div>")
            return
        if not reading.ok:
            self._readout.value = (f'<div class="orw-account-error" style="color:{CSS["error"]}">'
                                   f"{esc(reading.message)}</div>")
            return
        left = reading.free_remaining
        used = reading.free_used
        unknown = _("unknown")
        rows = [
            ("key", _("key"), reading.key_label or unknown),
            ("management", _("management key"), _yes_no(reading.is_management, _)),
            ("balance", _("balance"), fmt_usd(reading.balance_usd, _)),
            ("purchased", _("credits purchased"), fmt_usd(reading.purchased_usd, _)),
            ("tier", _("tier"), self._tier(reading)),
            ("free-today", _("free requests today"), _("not reported") if used is None else
             _("{used} used, {left} left").format(used=fmt_count(used), left=fmt_count(left, _))),
            ("reset", _("daily reset"), _("00:00 UTC, in {span} (now {clock} UTC)").format(
                span=fmt_duration(reading.seconds_to_reset, _), clock=fmt_clock(reading.now))),
            ("free-tier", _("never paid (is_free_tier)"), _yes_no(reading.is_free_tier, _)),
            ("usage", _("usage"), fmt_usd(reading.usage_usd, _)),
        ]
        rows += self._limit_rows(reading)
        if reading.rate_limit:
            rows.append(("rate-limit", _("rate_limit (legacy field)"), reading.rate_limit))
        body = "".join(
            f'<tr><td style="color:{muted};padding-right:12px">{esc(label)}</td>'
            f'<td style="color:{fg}" class="orw-account-{slug}">{esc(value)}</td></tr>'
            for slug, label, value in rows)
        notes = list(reading.notes)
        version = get_policy(self.account.policy)
        if reading.free_source == "emulator engine":
            notes.append(_("Today's free requests come from the emulator's engine: {why}.").format(
                why=_key_reports_free(version, _, when=True)))
        elif reading.free_source is None:
            notes.append(_("Today's free requests are not reported: {why}.").format(
                why=_key_reports_free(version, _, when=True)))
        extra = ""
        if reading.credits_status == "forbidden":
            extra = (f'<div class="orw-credits-forbidden" style="color:{CSS["warn"]}">'
                     f"{esc(reading.credits_message)}</div>")
        elif reading.credits_status == "error":
            extra = f'<div style="color:{CSS["error"]}">{esc(reading.credits_message)}</div>'
        acct = self.account
        if reading.balance_usd is not None and acct.balance_usd != reading.balance_usd:
            notes.append(_("The explorers have since moved the balance to {balance} (what-if); "
                           "press {button} to reload.").format(
                               balance=fmt_usd(acct.balance_usd), button=_("Read account")))
        if reading.purchased_usd is not None and acct.purchased_usd != reading.purchased_usd:
            notes.append(_("The explorers have since set credits purchased to {purchased} "
                           "(what-if).").format(purchased=fmt_usd(acct.purchased_usd)))
        notes_html = "".join(f'<div style="color:{muted}">{esc(n)}</div>' for n in notes)
        self._readout.value = f"<table>{body}</table>{extra}{notes_html}"

    def _limit_rows(self, reading: AccountReading) -> list[tuple[str, str, str]]:
        """The key's own limit: how much, what is left, when its window starts again."""
        _ = self._
        name = _("key limit")
        if not reading.has_limit_fields:
            return [("limit", name, _("unknown: this GET /key answer has no limit fields"))]
        if reading.limit_usd is None:
            return [("limit", name, _("none: this key may spend the whole balance"))]
        period = _PERIODS.get(reading.limit_reset)
        rows = [("limit", name, _("{amount} {period}").format(
            amount=fmt_usd(reading.limit_usd),
            period=_(period) if period is not None else reading.limit_reset or ""))]
        left = reading.limit_remaining_usd
        if left is None:
            remaining = _("unknown")
        elif reading.limit_spent:
            remaining = _("{left} of {limit}: spent, so every call answers 403 Key limit exceeded "
                          "until the reset").format(left=fmt_usd(left),
                                                    limit=fmt_usd(reading.limit_usd))
        else:
            remaining = _("{left} of {limit}").format(left=fmt_usd(left),
                                                      limit=fmt_usd(reading.limit_usd))
        rows.append(("limit-remaining", _("limit remaining"), remaining))
        resets = reading.limit_resets_at
        if resets is None:
            rows.append(("limit-reset", _("limit resets"), _("never: a lifetime limit")))
        else:
            when = datetime.fromtimestamp(resets, tz=timezone.utc)
            rows.append(("limit-reset", _("limit resets"),
                         _("{when} UTC ({window}), in {span}").format(
                             when=f"{when:%Y-%m-%d %H:%M}", window=reading.limit_reset,
                             span=fmt_duration(resets - reading.now, _))))
        return rows


def _key_reports_free(version: PolicyVersion, _: Translator = ENGLISH, *,
                      when: bool = False) -> str:
    """What GET /key says about free requests under ``version``, for the tier's "where from";
    ``when`` adds which version first reports them."""
    if version.key_shape == "2026":
        return _("GET /key under this version reports free_model_daily_requests, but this answer "
                 "did not include it")
    if when:
        return _("GET /key under '{policy}' does not report it: free_model_daily_requests "
                 "arrived with '{first}'").format(policy=version.id, first=_FIRST_FREE_COUNTER)
    return _("GET /key under '{policy}' does not report it").format(policy=version.id)


def _yes_no(value: bool | None, _: Translator = ENGLISH) -> str:
    if value is None:
        return _("unknown")
    return _("yes") if value else _("no")
