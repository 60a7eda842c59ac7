"""Run the plan against the target, then against an in-process emulator, and compare."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import math
import numbers
import unicodedata
from collections.abc import Callable
from typing import Any, Union

import httpx

from .._secret import SecretKey, key_from_env
from ..client import OPENROUTER_API_BASE, api_base, is_loopback
from ..i18n import N_, Text, get_language, translate
from ..policy import PolicyVersion, free_daily_grant_from, get_policy
from ._compare import compare
from ._probe import CREDITS_PROBE, PLAN, Answer, ModelChoice, Probe, choose_models, send
from ._report import AccountShape, ProbeReport, Report

__all__ = ["check", "acheck", "describe_plan", "plan_for", "infer_account", "DEFAULT_MAX_CALLS",
           "DEFAULT_TIMEOUT_S", "KEY_ENV", "REDACTED"]

#: The hard cap on requests to the target (the plan has six). [issue #14]
DEFAULT_MAX_CALLS = 6
#: Seconds to wait for each answer of the target. [inv] generous: a free model can be slow.
DEFAULT_TIMEOUT_S = 30.0
KEY_ENV = "OPENROUTER_API_KEY"
#: What replaces the key wherever a target echoes it back.
REDACTED = "<redacted key>"
#: ``rate_limit.interval`` of the legacy ``GET /key``: 10 x RPS requests per 10 s, RPS = balance
#: rounded up. [doc]
_LEGACY_INTERVAL = "10s"
_LEGACY_INTERVAL_S = 10
#: The balance the emulator account gets when the target's free-model chat answered 402: the
#: docs say only a negative balance refuses free models. [inv] any negative amount does.
NEGATIVE_BALANCE_USD = -0.01
#: Credits "purchased" by an account that has paid before (``is_free_tier: false``) when nothing
#: says how much: enough to be a paying account, under every tier threshold. [inv]
SOME_PURCHASE_USD = 1.0

Confirm = Union[bool, Callable[[str], bool]]


def plan_for(max_calls: int, credits: bool = False) -> tuple[list[Probe], list[Probe]]:
    """The probes that will run and the ones ``max_calls`` cuts."""
    plan = [*PLAN, CREDITS_PROBE] if credits else list(PLAN)
    return plan[:max_calls], plan[max_calls:]


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def describe_plan(base_url: str = OPENROUTER_API_BASE, max_calls: int = DEFAULT_MAX_CALLS,
                  credits: bool = False, policy: str = "current", lang: str | None = None) -> str:
    """What :func:`check` will send and what it costs: the text shown before confirming, in
    ``lang`` (the language in force when ``None``: see :func:`orwidgets.i18n.get_language`)."""
    lang = get_language(lang)
    base = api_base(base_url)
    run, cut = plan_for(_check_max_calls(max_calls), credits)
    labels = [p.label_in(lang) for p in run]
    width = max(_width(label) for label in labels)
    lines = [Text.ngettext("orwidgets conform will send {n} request to {base} (--max-calls "
                           "{max_calls}):",
                           "orwidgets conform will send {n} requests to {base} (--max-calls "
                           "{max_calls}):", len(run), n=len(run), base=base,
                           max_calls=max_calls).render(lang)]
    lines += [f"  {i}. {label}{' ' * (width - _width(label))}  {p.cost_in(lang)}"
              for i, (p, label) in enumerate(zip(run, labels), 1)]
    if cut:
        lines.append("  " + Text(N_("not sent (over --max-calls): {probes}"),
                                 probes="; ".join(p.label_in(lang) for p in cut)).render(lang))
    spends = any(p.id == "chat_free" for p in run)
    lines.append(translate(N_("Cost: one free-model request of today's quota; no credits.")
                           if spends else N_("Cost: nothing."), lang))
    lines.append(Text(N_("The same plan then runs against an emulator (policy {policy}) inside "
                         "this process: nothing more goes out."),
                      policy=get_policy(policy).id).render(lang))
    return "\n".join(lines)


def _check_max_calls(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_calls: expected a whole number of at least 1, got {value!r}")
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def _usd(amount: float) -> str:
    return f"${amount:,.2f}"


def infer_account(
    key: Answer | None,
    credits: Answer | None,
    free_chat: Answer | None,
    version: PolicyVersion,
    lang: str | None = None,
) -> tuple[AccountShape, list[str]]:
    """The emulator account shaped like the probed one, and a sentence per inference (in
    ``lang``: the language in force when ``None``).

    Purchases and balance come from ``GET /credits`` when it answered 200 (``total_credits``,
    ``total_credits - total_usage``); otherwise from ``GET /key``: the free daily limit or
    ``is_free_tier`` for purchases, the legacy ``rate_limit`` (10 x RPS per 10 s) or purchases
    minus the key's ``usage`` for the balance. A free-model chat answered 402 means a negative
    balance [doc].
    """
    lang = get_language(lang)
    notes: list[str] = []

    def note(template: str, **fields: object) -> None:
        notes.append(Text(template, **fields).render(lang))

    data = key.data() if key is not None else None
    management = False
    purchased = balance = None
    if data is not None:
        management = any(data.get(f) is True for f in ("is_management_key", "is_provisioning_key"))
        if management:
            note(N_("management key: yes (GET /key is_management_key)"))
        else:
            note(N_("management key: no (GET /key is_management_key)"))
    else:
        note(N_("GET /key gave no data: a non-management account that never purchased credits"))
    cdata = credits.data() if credits is not None else None
    if cdata is not None:
        total, used = _number(cdata.get("total_credits")), _number(cdata.get("total_usage"))
        if total is not None and used is not None:
            purchased, balance = max(total, 0.0), total - used
            note(N_("purchased {purchased} and balance {balance} from GET /credits "
                    "(total_credits, total_credits - total_usage)"),
                 purchased=_usd(purchased), balance=_usd(balance))
    if purchased is None and data is not None:
        daily = data.get("free_model_daily_requests")
        limit = _number(daily.get("limit")) if isinstance(daily, dict) else None
        grant = free_daily_grant_from(version)
        if limit is not None and grant is not None and version.free_daily_high is not None \
                and limit >= version.free_daily_high:
            purchased = grant
            note(N_("purchased {purchased}: GET /key reports a free daily limit of {limit}, the "
                    "tier granted from that much"), purchased=_usd(grant), limit=f"{limit:g}")
        elif data.get("is_free_tier") is False:
            purchased = SOME_PURCHASE_USD
            note(N_("purchased {purchased}: GET /key says is_free_tier false (has paid before) "
                    "without saying how much [inv]"), purchased=_usd(purchased))
        elif data.get("is_free_tier") is True:
            purchased = 0.0
            note(N_("purchased {purchased}: GET /key says is_free_tier true (never paid)"),
                 purchased=_usd(purchased))
    if purchased is None:
        purchased = 0.0
    if balance is None and data is not None:
        rate = data.get("rate_limit")
        requests = _number(rate.get("requests")) if isinstance(rate, dict) else None
        usage = _number(data.get("usage"))
        if requests is not None and requests > 0 and rate.get("interval") == _LEGACY_INTERVAL:
            balance = requests / _LEGACY_INTERVAL_S
            note(N_("balance {balance}: GET /key rate_limit allows {requests} requests per "
                    "{interval} (10 per dollar of balance)"),
                 balance=_usd(balance), requests=f"{requests:g}", interval=_LEGACY_INTERVAL)
        elif usage is not None:
            balance = max(purchased - usage, 0.0)
            note(N_("balance {balance}: purchases minus the key's usage ({usage}) [inv: other "
                    "keys of the account may have spent more]"),
                 balance=_usd(balance), usage=_usd(usage))
    if balance is None:
        balance = 0.0
    if free_chat is not None and free_chat.status == 402 and balance >= 0:
        balance = NEGATIVE_BALANCE_USD
        note(N_("balance {balance}: the free-model chat answered 402, which only a negative "
                "balance does"), balance=_usd(balance))
    return AccountShape(round(balance, 6), round(purchased, 6), management), notes


def _key(key: str | SecretKey | None) -> SecretKey | None:
    if isinstance(key, SecretKey):
        return key
    if key is None:
        return key_from_env(KEY_ENV)
    if isinstance(key, str) and key.strip():
        return SecretKey(key)
    return None


def _scrubber(key: SecretKey) -> Callable[[str], str]:
    value = key.reveal()

    def scrub(text: str) -> str:
        return text.replace(value, REDACTED) if value in text else text

    return scrub


async def _run_side(client: httpx.AsyncClient, probes: list[Probe], key: SecretKey,
                    scrub: Callable[[str], str], timeout: float, *, stop_early: bool,
                    lang: str = "en") -> tuple[dict[str, Answer], ModelChoice, str | None]:
    """Send ``probes`` in order; on the target, stop at the first failure that ends the run (and
    say why in ``lang``)."""
    answers: dict[str, Answer] = {}
    models = choose_models(None)
    for probe in probes:
        answer = await send(client, probe, key, models, scrub, timeout, lang)
        answers[probe.id] = answer
        if probe.id == "models":
            models = choose_models(answer)
        if not stop_early:
            continue
        if answer.error is not None:
            return answers, models, Text(N_("{probe}: {error}"), probe=probe.label_in(lang),
                                         error=answer.error).render(lang)
        if probe.id == "key" and answer.status in (401, 403):
            # [inv] stop here: every later probe would only say "wrong key", and the free-model
            # chat would spend quota for nothing.
            said = f' "{answer.message}"' if answer.message else ""
            return answers, models, Text(
                N_("the target refused the key: {probe} answered {status}{message}; check --key "
                   "or {env}"),
                probe=probe.label_in(lang), status=answer.status, message=said, env=KEY_ENV,
            ).render(lang)
    return answers, models, None


async def acheck(
    key: str | SecretKey | None = None,
    *,
    base_url: str = OPENROUTER_API_BASE,
    policy: str = "current",
    max_calls: int = DEFAULT_MAX_CALLS,
    confirm: Confirm = False,
    credits: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    transport: httpx.AsyncBaseTransport | None = None,
    lang: str | None = None,
) -> Report:
    """:func:`check`, awaitable (same parameters), for code inside a running event loop."""
    lang = get_language(lang)
    version = get_policy(policy)
    max_calls = _check_max_calls(max_calls)
    base = api_base(base_url)
    if _number(timeout) is None or timeout <= 0:
        raise ValueError(f"timeout: expected a number of seconds above 0, got {timeout!r}")
    run, cut = plan_for(max_calls, credits)
    report = Report(target=base, policy=version.id, policy_requested=str(policy),
                    max_calls=max_calls, plan=[p.label for p in run],
                    skipped=[p.label for p in cut], lang=lang)
    secret = _key(key)
    if secret is None:
        report.error = Text(N_("no API key: pass one (--key) or set {env}"),
                            env=KEY_ENV).render(lang)
        return report
    if not is_loopback(base):
        text = describe_plan(base, max_calls, credits, version.id, lang)
        agreed = confirm(text) if callable(confirm) else confirm is True
        if not agreed:
            report.error = Text(N_("not confirmed: {n} requests to {base} spend one free-model "
                                   "request of today's quota; confirm first (--yes, or "
                                   "confirm=True)"), n=len(run), base=base).render(lang)
            return report
    scrub = _scrubber(secret)
    limits = httpx.Timeout(timeout)
    # Proxy settings from the environment only for remote targets reached over the network:
    # loopback stays loopback, and a given transport is the only way out.
    trust_env = transport is None and not is_loopback(base)
    async with httpx.AsyncClient(base_url=base + "/", timeout=limits, transport=transport,
                                 follow_redirects=False, trust_env=trust_env) as client:
        real, real_models, error = await _run_side(client, run, secret, scrub, timeout,
                                                    stop_early=True, lang=lang)
    report.calls = len(real)
    report.models["real"] = {"free": real_models.free, "paid": real_models.paid}
    if error is not None:
        failed = run[len(real) - 1]
        report.error = (Text(N_("cannot reach {base}: {error}"), base=base,
                             error=error).render(lang)
                        if real[failed.id].error is not None else error)
        report.probes = [ProbeReport(p.id, p.label, real[p.id].status, lang=lang)
                         for p in run if p.id in real]
        return report
    account, notes = infer_account(real.get("key"), real.get("credits"), real.get("chat_free"),
                                   version, lang)
    report.account, report.inferred = account, notes
    emulated, emu_models = await _run_emulator(version, account, run, timeout, lang)
    report.models["emulator"] = {"free": emu_models.free, "paid": emu_models.paid}
    report.probes = [compare(p, real[p.id], emulated[p.id], lang) for p in run]
    return report


async def _run_emulator(version: PolicyVersion, account: AccountShape, run: list[Probe],
                        timeout: float, lang: str) -> tuple[dict[str, Answer], ModelChoice]:
    # Imported here: the emulator (Starlette) loads only when a comparison runs.
    from ..emulator import create_app

    app = create_app(policy=version, latency_ms=0)
    emu = app.state.emulator
    _, emu_key = emu.create_account(account.balance_usd, account.purchased_usd,
                                    account.management, label="conform", name="conform")
    secret = SecretKey(emu_key)
    # A crash inside the emulator is compared as its 500 answer, not raised.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator/api/v1/",
                                 timeout=httpx.Timeout(timeout)) as client:
        answers, models, _ = await _run_side(client, run, secret, _scrubber(secret), timeout,
                                             stop_early=False, lang=lang)
    return answers, models


def check(key: str | SecretKey | None = None, **options: Any) -> Report:
    """Probe an OpenRouter API (the real one by default) and diff it against the emulator.

    Sends the plan (``GET /models``, ``GET /key``, a chat without a key, one with an unknown
    model, one free-model chat with ``max_tokens: 1``, one paid-model chat no balance can cover;
    ``credits=True`` adds ``GET /credits``), at most ``max_calls`` requests, then the same plan
    to an emulator of ``policy`` inside this process, with an account shaped like the probed
    one, and compares the answers.

    Parameters
    ----------
    key:
        The API key (a string or :class:`~orwidgets._secret.SecretKey`); ``OPENROUTER_API_KEY``
        when omitted. It goes into the ``Authorization`` header and nowhere else: the report
        never contains it, even when the target echoes it back.
    base_url:
        The API to probe (default OpenRouter's). Anything but loopback needs ``confirm``.
    policy:
        The emulator's policy version (``current`` is the newest).
    max_calls:
        Hard cap on requests to the target; the probes beyond it are reported as skipped.
    confirm:
        ``True`` to agree in advance, or a callable that gets the plan's text (how many calls,
        what they cost) and returns whether to go on. Without it a non-loopback target is not
        contacted and the report says why.
    credits:
        Also read ``GET /credits`` (free) to shape the emulator account from real purchases.
    timeout:
        Seconds to wait for each answer.
    transport:
        An httpx transport for the target (tests); the default opens real connections.
    lang:
        The report's language (``en``, ``ja``, ``zh``; the language in force when ``None``: see
        :func:`orwidgets.i18n.get_language`). Ids, labels and OpenRouter's messages in the JSON
        stay as they are.

    Returns
    -------
    Report
        ``report.exit_code`` is 0 (nothing differs), 1 (something does) or 2 (no comparison:
        ``report.error`` says why). Network problems never raise: they end up in the report.

    Raises
    ------
    ValueError
        For an unknown policy, a bad ``base_url``, ``max_calls`` or ``timeout``.
    """
    coro = acheck(key, **options)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # Inside a running loop (a notebook kernel): run on a worker thread with a loop of its own.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="orwidgets-conform") as pool:
        return pool.submit(asyncio.run, coro).result()


# check() forwards its options to acheck(): show acheck's parameters as its own (help, notebooks).
check.__signature__ = inspect.signature(acheck)  # type: ignore[attr-defined]
