"""Generate the notebooks in ``notebooks/`` from the cell sources below.

The notebooks are build products: edit this file, then run

    .venv/bin/python tools/build_notebooks.py          # write notebooks/*.ipynb
    .venv/bin/python tools/build_notebooks.py --check  # exit 1 if the committed files differ

Markdown cells are ``str.format`` templates. Every number or message of OpenRouter's rules that
the prose mentions is a ``{placeholder}`` filled from ``orwidgets.policy`` (see :func:`prose_values`),
so the text and the code cannot disagree; ``tests/notebooks`` checks that no template types such a
number itself, and that the committed notebooks equal this script's output. Literal braces in
markdown are doubled (``{{``). Code cells are copied as they are: they compute their numbers at run
time through the public API.

Committed notebooks carry no outputs and no widget state (an executed FigureWidget adds megabytes).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
if str(ROOT) not in sys.path:  # run as a script from a checkout without installing
    sys.path.insert(0, str(ROOT))

from orwidgets import policy as P  # noqa: E402
from orwidgets.client import PRESETS  # noqa: E402

__all__ = ["Cell", "NOTEBOOKS", "prose_values", "render", "build_all", "main"]


@dataclass(frozen=True)
class Cell:
    """One cell: ``kind`` is ``"md"`` (a template) or ``"code"``; ``id`` is the stable cell id."""

    kind: str
    id: str
    source: str


def md(cell_id: str, source: str) -> Cell:
    return Cell("md", cell_id, source.strip("\n"))


def code(cell_id: str, source: str) -> Cell:
    return Cell("code", cell_id, source.strip("\n"))


# --- Values the prose may use -----------------------------------------------------------------


def _q(text: str) -> str:
    """A message as an inline code span with its quotes, so trailing spaces stay visible."""
    return f'`"{text}"`'


def _money(usd: float) -> str:
    return f"${usd:,.2f}" if usd != int(usd) else f"${int(usd):,}"


def _rps_examples_table() -> str:
    """The spec's worked examples of the article's rule, computed by the policy functions."""
    version = P.get_policy(P.DEFAULT_POLICY_ID)
    rows = ["| balance | paid RPS | rule |", "|---:|---:|---|"]
    for balance in (0.5, 1, 1.2, 5, 10, 499.01, 500, 1000):
        answer = P.explain_paid_rps(balance, version)
        rows.append(f"| {_money(balance)} | {answer.rps} | {answer.rule} |")
    return "\n".join(rows)


def _daily_text(version: P.PolicyVersion) -> str:
    if not version.has_topup_tier:
        return f"{version.free_daily_low:,} for everyone"
    return (
        f"{version.free_daily_low:,}; {version.free_daily_high:,} from "
        f"{version.topup_threshold_usd:g} credits purchased"
    )


def _paid_text(version: P.PolicyVersion) -> str:
    if not version.paid_rps_linked:
        return "no platform request cap"
    return (
        f"RPS = balance in USD rounded up, at least {version.paid_rps_min}, "
        f"at most {version.paid_rps_cap}"
    )


def _timeline_table() -> str:
    rows = [
        "| version | in force | free per minute | free per day | paid models | `GET /key` shape |"
        " `GET /credits` |",
        "|---|---|---:|---|---|---|---|",
    ]
    for version in P.POLICIES.values():
        default = " (the article; default here)" if version.id == P.DEFAULT_POLICY_ID else ""
        credits = "management key only" if version.credits_requires_management else "any key"
        rows.append(
            f"| `{version.id}`{default} | {version.in_force_text} | {version.free_per_minute} | "
            f"{_daily_text(version)} | {_paid_text(version)} | {version.key_shape} | {credits} |"
        )
    return "\n".join(rows)


_FIELD_NAMES = {
    "free_per_minute": "free-model requests per minute",
    "free_daily_low": "free-model requests per day (without top-up)",
    "free_daily_high": "free-model requests per day after topping up",
    "topup_threshold_usd": "credits purchased that unlock the higher tier",
    "paid_rps_linked": "paid RPS follows the balance",
    "key_shape": "`GET /api/v1/key` answer shape",
    "credits_requires_management": "`GET /api/v1/credits` needs a management key",
}


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _differences() -> str:
    """Every field that changes from one version to the next, with the version's own summary."""
    versions = list(P.POLICIES.values())
    first = versions[0]
    blocks = [f"**`{first.id}`**, in force {first.in_force_text}. {first.changes}"]
    for before, after in zip(versions, versions[1:]):
        head = f"**`{before.id}` -> `{after.id}`**, in force {after.in_force_text}."
        lines = [f"{head} {after.changes}", ""]
        for name, label in _FIELD_NAMES.items():
            old, new = getattr(before, name), getattr(after, name)
            if old != new:
                lines.append(f"- {label}: {_show(old)} -> **{_show(new)}**")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def prose_values() -> dict[str, str]:
    """Everything a markdown template may name, read from ``orwidgets.policy``."""
    default = P.get_policy(P.DEFAULT_POLICY_ID)
    current = P.get_policy("current")
    legacy = P.get_policy("legacy-2024")
    m = P.MESSAGES
    return {
        "per_minute": f"{P.FREE_PER_MINUTE:,}",
        "daily_legacy": f"{P.FREE_DAILY_LEGACY:,}",
        "daily_low": f"{P.FREE_DAILY_LOW:,}",
        "daily_high": f"{P.FREE_DAILY_HIGH:,}",
        "threshold": f"{P.TOPUP_THRESHOLD_USD:g}",
        "rps_min": f"{P.PAID_RPS_MIN:,}",
        "rps_cap": f"{P.PAID_RPS_CAP:,}",
        "default_id": default.id,
        "default_period": default.in_force_text,
        "current_id": current.id,
        "legacy_id": legacy.id,
        "credits_url": P.CREDITS_URL,
        "msg_per_minute": _q(m.free_per_minute),
        "msg_per_day_low": _q(m.free_per_day_low),
        "msg_per_day_high": _q(m.free_per_day_high),
        "msg_paid_rate": _q(m.paid_rate),
        "msg_negative": _q(m.negative_balance),
        "msg_upstream": _q(m.upstream),
        "msg_affordability": _q(P.affordability_message(4096, 1234).split(". You")[0] + "."),
        "src_per_minute": f"`{P.LimitSource.FREE_PER_MINUTE.value}`",
        "src_daily": f"`{P.LimitSource.FREE_DAILY.value}`",
        "src_paid_rate": f"`{P.LimitSource.PAID_RATE.value}`",
        "src_upstream": f"`{P.LimitSource.UPSTREAM.value}`",
        "livecalls_presets": "\n".join(f"- *{preset.label}*" for preset in PRESETS),
        "rps_examples": _rps_examples_table(),
        "timeline": _timeline_table(),
        "differences": _differences(),
    }


# --- 01: the read-through tutorial --------------------------------------------------------------

TUTORIAL: list[Cell] = [
    md("title", """
# OpenRouter's free quotas and rate limits, by hand

OpenRouter changed its free-usage rules: free-model calls went from **{daily_legacy} a day for
everyone** to **{daily_low} a day**, or **{daily_high} a day once you have bought ${threshold} of
credits**, and the speed at which you may call paid models came to follow your balance. This
notebook tells that story with the rules live: drag the sliders, flip the toggles, press the
buttons, and watch real `402` and `429` answers come back.

**No key, no network, no money.** Everything below runs against an emulator of the OpenRouter API
that this notebook starts inside its own kernel, on `127.0.0.1`. Only the last section talks to the
real API, and only if you set `OPENROUTER_API_KEY` yourself.

Run it top to bottom (**Run > Run All Cells**). By default the widgets and the emulator apply the
rules of the article this tutorial follows: policy version **`{default_id}`** ({default_period}).
The last section shows what the current docs say instead, and every widget has a picker to switch.
"""),
    code("setup", """
import orwidgets
from orwidgets import DEFAULT_POLICY_ID, POLICIES

rules = POLICIES[DEFAULT_POLICY_ID]
print(f"orwidgets {orwidgets.__version__}; rules in force here: {rules.id} ({rules.in_force_text})")
print(f"  {rules.title}")
"""),
    md("what-is-openrouter", """
## 1. What OpenRouter is

OpenRouter puts many language-model families behind **one OpenAI-compatible API and one API key**:
DeepSeek, Qwen, GPT, Claude, Gemini, Grok and more, including models that are hard to reach
directly from some countries. You pay in credits (one credit is one US dollar) by card, Alipay,
WeChat Pay or crypto.

Many models also come as a **free variant**: its id ends in `:free`
(`meta-llama/llama-3.3-70b-instruct:free`), its price is `"0"` and its name ends in `(free)`.
OpenAI's GPT models have no free variant. Free variants cost nothing, but they are rationed, and
that ration is the first half of this tutorial. The second half is the speed limit on paid models.
"""),
    md("free-change", """
## 2. The change to free calls

| | before (`{legacy_id}`) | after (`{default_id}`, the article) |
|---|---:|---:|
| free-model calls a day, never topped up | {daily_legacy} | **{daily_low}** |
| free-model calls a day, topped up ${threshold} or more | {daily_legacy} | **{daily_high}** |
| free-model calls a minute | {per_minute} | {per_minute} |

The daily count is per **UTC calendar day** (it resets at 00:00 UTC) and per **account**: every key
and every `:free` model of the account draws from the same pool. Flip the top-up toggle:
"""),
    code("quota-explorer", """
from orwidgets import FreeQuotaExplorer

FreeQuotaExplorer()
"""),
    md("balance-or-purchases", """
**Balance or purchases?** The article says the {daily_high} tier needs a *balance* of at least
${threshold}, and so did OpenRouter's first wording in April 2025. The docs soon said *credits
purchased* instead, and today's docs add that a one-time purchase of {threshold} credits keeps the
{daily_high} tier even after the balance is spent. **orwidgets models the purchase rule**: in the
widgets, "topped up" means "has bought at least {threshold} credits, ever". The payment fee (by
card 5.5%, at least $0.80; by crypto 5%) is charged on top of the credits, so what counts is
credits bought, not dollars paid.
"""),
    md("rps-rpm-rpd", """
## 3. RPS, RPM and RPD

Rate limits are counted in three windows:

- **RPS**, requests per second: how many requests you may start within one second. The article
  calls it the concurrency measure. Under the article's rules it applies to **paid** models.
- **RPM**, requests per minute: **free** models get **{per_minute}**, counted per clock minute
  (the window resets on the whole minute).
- **RPD**, requests per day: **free** models get **{daily_low}** (never topped up) or
  **{daily_high}** (topped up), counted per UTC day.

| | free `:free` models | paid models |
|---|---|---|
| per second | (no separate limit) | RPS = your balance in USD, at least {rps_min}, at most {rps_cap} |
| per minute | {per_minute} | (no separate limit) |
| per day | {daily_low} or {daily_high} | none: your balance is the limit |

More API keys do not raise these limits: OpenRouter counts them per account, and its docs add
that extra accounts or keys "will not affect your rate limits, as we govern capacity globally".
"""),
    md("rps-explained", """
## 4. Paid models: RPS follows your balance

Under the article's rules, **a balance of N US dollars buys N requests per second** on paid models,
rounded up in your favour, never below **{rps_min}** and never above **{rps_cap}**:

{rps_examples}

A balance at or below $0 gets `402` on paid models before the rate matters. Drag the slider, type
a balance, or switch the policy to `{current_id}` to see the rule disappear:
"""),
    code("rps-explorer", """
from orwidgets import RPSExplorer

RPSExplorer()
"""),
    md("depletion", """
## 5. Why RPS falls as the balance is spent

Every paid call is paid from the balance, and the balance sets the RPS. So a busy application
lowers its own ceiling as it spends: an app that needs N requests a second keeps them only while
its balance stays above N - 1 dollars (the rule rounds up). The article's advice for production apps
follows: **watch the balance and top up before the RPS drops below what the business needs**.

The planner simulates a day second by second through the same engine the emulator uses. Set the
traffic your app sends and what a call costs; it shows when the RPS ceiling crosses your need, and
what a top-up changes.
"""),
    code("planner", """
from orwidgets import DepletionPlanner

DepletionPlanner()
"""),
    code("depletion-sim", """
from orwidgets import Reason, Traffic, simulate

need, start_balance, cost = 20, 25.0, 0.002  # RPS the app needs, dollars, dollars per call
run = simulate(Traffic(rps=need, cost_per_call_usd=cost), duration_s=900, balance_usd=start_balance)
second = run.first_cap_below(need)
print(f"Sending {need} paid calls a second at ${cost} each from a ${start_balance:.2f} balance:")
print(f"  the RPS ceiling falls below {need} after {second} s "
      f"(balance then ${run.balance_usd[second]:.2f}, ceiling {run.paid_rps_cap[second]} RPS).")
print(f"  after {len(run.seconds)} s: balance ${run.balance_usd[-1]:.2f}, "
      f"ceiling {run.paid_rps_cap[-1]} RPS; {run.count(Reason.OK)} calls answered, "
      f"{run.count(Reason.PAID_RATE)} got the paid-rate 429")
"""),
    md("live-intro", """
## 6. `402` and `429`, for real

Now real HTTP. The next cell starts the emulator: an OpenRouter-compatible server on `127.0.0.1`,
in a background thread of this kernel. It answers `POST /api/v1/chat/completions`, `GET /api/v1/key`,
`GET /api/v1/credits` and `GET /api/v1/models` with OpenRouter's status codes, messages, headers and
JSON shapes.

The article quotes the docs' *descriptions* of the two codes: `402` "Your account or API key has
insufficient credits. Add more credits and retry the request." and `429` "Rate limit exceeded.
Please try again later." The `error.message` strings that really come back are more precise, and
they are what your code should read; below you see them exactly.

Where no public capture or doc exists, the emulator makes its own choice and says so **[inv]**:
the body of the paid-rate `429`, counting rejected attempts in the per-minute window too, checking
the per-minute cap before the per-day one, and estimating tokens as characters / 4. The emulator
comes with a few demo accounts:
"""),
    code("emulator-start", """
from orwidgets.emulator import start

emu = start()  # the same running emulator if one is already up in this kernel
print(f"emulator at {emu.api_base}, policy {emu.emulator.policy.id}\\n")
print(f"{'account':<12}{'balance $':>10}{'bought $':>10}{'free/day':>10}{'paid RPS':>10}")
for a in emu.emulator.accounts_view():
    name = a["name"] or a["account_id"]  # accounts made through the admin API have no name
    print(f"{name:<12}{a['balance_usd']:>10.2f}{a['purchased_usd']:>10.2f}"
          f"{a['free_daily_limit']:>10}{str(a['paid_rps']):>10}")
"""),
    md("livecalls-intro", """
Pick a scenario and press **Run**: the panel fires real requests at the emulator and counts the
answers by kind; the last error shows the body as OpenRouter sends it. The scenarios:

{livecalls_presets}
"""),
    code("livecalls", """
from orwidgets import LiveCalls

LiveCalls(emu)
"""),
    md("scripted-429", """
The same by hand. The next cell makes {per_minute} free calls from the never-topped-up account
within one clock minute, then one more: the extra call gets the per-minute `429`, with its
`X-RateLimit-*` headers. (The cell pins the emulator's clock to the start of a minute so the burst
cannot straddle two windows.)
"""),
    code("scripted-429-code", """
import json
from datetime import datetime, timezone
from orwidgets.client import OpenRouterClient

FREE_MODEL = "meta-llama/llama-3.3-70b-instruct:free"
NOON = datetime(2025, 5, 1, 12, 0, 1, tzinfo=timezone.utc).timestamp()

def fresh_emulator():  # start state (fresh counters, no faults), clock just after 12:00 UTC
    emu.emulator.reset()
    emu.emulator.clock.set(NOON)

fresh_emulator()
free = OpenRouterClient(emu.api_base, emu.keys["free"])  # the never-topped-up account
results = [free.chat(FREE_MODEL, max_tokens=8) for _ in range(orwidgets.free_per_minute() + 1)]
print("statuses:", [r.status for r in results])
last = results[-1]
print(f"call {len(results)}: {last.status} {last.message!r}")
limit = last.rate_limit
print(f"X-RateLimit-Limit: {limit.limit}, X-RateLimit-Remaining: {limit.remaining}, "
      f"X-RateLimit-Reset: {limit.reset_ms} (= {last.reset_at:%Y-%m-%d %H:%M:%S} UTC)")
print(json.dumps(last.body, indent=2))
"""),
    md("scripted-402", """
And a `402`: an account whose balance went **negative** is refused even on a **free** model, with
{msg_negative}. Under the article's rules a paid request is also refused when the balance cannot
cover its maximum cost ({msg_affordability} ...).
"""),
    code("scripted-402-code", """
negative = OpenRouterClient(emu.api_base, emu.keys["negative"])
r = negative.chat(FREE_MODEL, max_tokens=8)
print(f"negative balance, free model: {r.status} {r.message!r}")

five = OpenRouterClient(emu.api_base, emu.keys["five"])
r = five.chat("anthropic/claude-3.5-haiku", max_tokens=2_000_000)
print(f"$5 balance, max_tokens=2,000,000: {r.status} {r.message!r}")
"""),
    md("scripted-paid-rate", """
Last, a paid burst above the RPS (the emulator's own answer, **[inv]**): the `five` account, with a
$5 balance, may start 5 paid requests a second; send 8 at once and the extra ones get the paid-rate
`429`, whose `X-RateLimit-Limit` is the account's RPS.
"""),
    code("scripted-paid-rate-code", """
from orwidgets.client import run_load

fresh_emulator()
burst = await run_load(emu.api_base, "openai/gpt-4o-mini", 8, concurrency=8,
                       api_key=emu.keys["five"])
print({result_class.label: n for result_class, n in burst.counts.items()})
rate_limited = next(r for r in burst.results if not r.ok)
print(f"{rate_limited.status} {rate_limited.message!r}, "
      f"X-RateLimit-Limit: {rate_limited.rate_limit.limit}")
"""),
    md("three-429s", """
## 7. The three kinds of `429`, and how to handle each

A `429` means different things, and a client that treats them alike either gives up too early or
burns quota. Read `error.message` or `error.metadata.limit_source`, not only the status:

| kind | how to recognise it | `X-RateLimit-Limit` | what your code should do |
|---|---|---|---|
| free, per minute | {msg_per_minute}, `limit_source` {src_per_minute} | {per_minute} | wait until `X-RateLimit-Reset` (the next whole minute, Unix **milliseconds**), then retry |
| free, per day | {msg_per_day_low} or {msg_per_day_high}, `limit_source` {src_daily} | {daily_low} or {daily_high} | **stop** until 00:00 UTC: rejected attempts count toward the day, so retrying only digs deeper |
| upstream provider | {msg_upstream}, `metadata.raw` says the model "is temporarily rate-limited upstream" | (none) | back off with jitter and honour `Retry-After` (seconds) when present; it happens even with credits |

Free-tier `429`s carry **no** `Retry-After`: the wait is in `X-RateLimit-Reset`. Successful answers
carry no `X-RateLimit-*` headers at all.

Under the article's rules there is a fourth: a paid burst above your RPS gets {msg_paid_rate} with
`X-RateLimit-Limit` = your RPS. No capture of that answer exists, so its exact body
(`limit_source` {src_paid_rate}, a reset at the next second) is **the emulator's own choice
[inv]**.

`with_retries` from `orwidgets.client` does all of this. Here it is against each kind; the
emulator's clock stands in for waiting, so nothing here actually sleeps a minute.
"""),
    code("retry-per-minute", """
from orwidgets.client import RetryGaveUp, with_retries

clock = emu.emulator.clock  # stands in for time: with_retries "sleeps" by moving it forward

def show(attempt):
    label = attempt.result.call_class.label
    print(f"  attempt {attempt.attempt}: {label}, waiting {attempt.wait_s:.2f} s")

# Per minute: spend this minute's free calls, then let the helper make one more.
fresh_emulator()
for _ in range(orwidgets.free_per_minute()):
    free.chat(FREE_MODEL, max_tokens=8)
r = with_retries(lambda: free.chat(FREE_MODEL, max_tokens=8),
                 clock=clock.now, sleep=clock.advance, on_retry=show)
print(f"per minute: waited for X-RateLimit-Reset -> {r.call_class.label}")
"""),
    code("retry-per-day", """
# Per day: spend today's pool, a minute's worth at a time, then the helper refuses to retry.
fresh_emulator()
per_minute, per_day = orwidgets.free_per_minute(), orwidgets.daily_free_quota(0)
for i in range(per_day):
    if i and i % per_minute == 0:
        clock.advance(60)
    assert free.chat(FREE_MODEL, max_tokens=8).ok
r = free.chat(FREE_MODEL, max_tokens=8)
print(f"{per_day} free calls today, then call {per_day + 1}: {r.status} {r.message!r}")
try:
    with_retries(lambda: free.chat(FREE_MODEL, max_tokens=8),
                 clock=clock.now, sleep=clock.advance, on_retry=show)
except RetryGaveUp as gave_up:
    print(f"per day: with_retries gave up after {gave_up.attempts} call: {gave_up}")
"""),
    code("retry-upstream", """
import httpx

# Upstream: make the provider behind the model saturated half the time (fault injection through
# the emulator's admin API), each 429 saying Retry-After: 2.
fresh_emulator()
admin = httpx.Client(base_url=emu.base_url, headers={"X-Admin-Token": emu.admin_token})
admin.post("/_emulator/faults", json={"rules": [
    {"kind": "upstream_429", "model": "*", "probability": 0.5, "seed": 7, "retry_after_s": 2}]})
topped = OpenRouterClient(emu.api_base, emu.keys["topped_up"])
r = with_retries(lambda: topped.chat("qwen/qwen3-32b", max_tokens=8),
                 clock=clock.now, sleep=clock.advance, on_retry=show)
admin.post("/_emulator/faults", json={"rules": []})  # faults off again
print(f"upstream: honoured Retry-After with jitter -> {r.call_class.label}")
"""),
    md("strategies", """
## 8. Which strategy fits you

The article's advice, by kind of user:

- **Heavy users and developers**: top up ${threshold} once. {daily_low} free calls a day go fast with
  agent-mode coding tools (Cursor, Cline, MCP tools), which also hit the {per_minute}-a-minute limit;
  {daily_high} a day is a different world for a one-time purchase.
- **Production applications**: free models are not for production. On paid models, under the
  article's rules, keep enough balance that the RPS never drops below what the business needs, and
  top up before it does (section 5).
- **Light users**: {daily_low} a day may be plenty; or chat on openrouter.ai with the `(free)`
  models, which costs nothing. (OpenAI's GPT models have no free variant.)
- **Several accounts to dodge the limits**: possible, not recommended: tedious, and against the
  spirit of the limits, which are counted per account.
- **Reaching models that are hard to reach directly**: OpenRouter remains an easy way to Claude,
  Gemini, GPT and others through one key.

Tell the advisor how you use OpenRouter:
"""),
    code("advisor", """
from orwidgets import TopUpAdvisor

TopUpAdvisor()
"""),
    md("faq", """
## 9. FAQ

**Where do I see my balance, and how many free requests I have left?** On openrouter.ai, open
**Settings > Credits** ({credits_url}): it shows the balance and the purchases. From code,
`GET /api/v1/key` answers with `data.free_model_daily_requests` = `{{"used", "limit", "remaining"}}`
(added to the API in late 2026; before that, no API told you), and `GET /api/v1/credits` gives
`total_credits - total_usage` = the balance (current docs: management keys only). The account panel
below asks the emulator the same questions.

**I added ${threshold} and I'm still capped at {daily_low} a day.** The rule counts **credits
purchased** ({threshold} of them); the payment fee is charged on top, so a payment of ${threshold}
in total buys fewer than {threshold} credits. Check `total_credits` (`GET /api/v1/credits`) or
`free_model_daily_requests.limit`. And today's counter may already be spent: rejected attempts count.

**When does the daily limit reset?** At **00:00 UTC**, whatever your time zone. The per-day `429`
says it in `X-RateLimit-Reset`, in Unix **milliseconds**.

**Why a `429` on my very first request?** Either the account's shared daily pool was already spent
(another key, another app, a background job on the same account), or the provider behind the model
is saturated: {msg_upstream} with "temporarily rate-limited upstream" in `metadata.raw`. The first
is the platform's cap, the second is not yours at all.

**Why a `402` on a free model?** A **negative balance** blocks free models too: add credits to get
above zero. A `402` can also come from the `max_tokens` check, when the balance cannot cover the
largest answer you asked for.

**My client keeps retrying the daily cap.** A per-day `429` is not transient: every retry counts
toward the day (`used` can exceed `limit`). Stop until 00:00 UTC (section 7).

**Do more keys or more accounts help?** More keys: no, the limits are per account, shared by all
its keys. More accounts: the article calls it possible but not recommended (tedious, keys to
juggle), and OpenRouter's docs say extra accounts or keys "will not affect your rate limits". For
more than {daily_high} a day, use paid models or your own provider key (BYOK).

**Does using free models spend my ${threshold}?** No: a `:free` call's `usage.cost` is `0`.

**Do credits expire?** OpenRouter reserves the right to expire credits one year after purchase
(as far as the sources show, a right reserved, not exercised so far).

**Can I get a refund?** The article: top-ups are generally not refundable. OpenRouter's FAQ allows
refunds of unused credits only within 24 hours of purchase; after that, treat them as spent.

**How can I pay?** Card, Alipay, WeChat Pay or crypto. Fees: 5.5% by card (at least $0.80), 5% by
crypto.

**How do I top up?** Open **Settings > Credits** ({credits_url}), click **Add Credits**, enter the
amount in US dollars, and pay by card, or choose Alipay, WeChat Pay or crypto and follow their
steps.
"""),
    code("account-panel", """
from orwidgets import AccountPanel

panel = AccountPanel(demo_account="free")  # reads GET /key and /credits from the emulator
panel.refresh()
panel
"""),
    md("current-docs", """
## 10. What the current docs say

The article describes the rules of spring 2025. OpenRouter's rules changed before it and after it;
orwidgets keeps each as a named, dated version, and every widget above has a picker to switch:

{timeline}

Every difference, version by version:

{differences}

In words, the current docs (`{current_id}`) say:

- Free models: still {per_minute} a minute, and {daily_low} or {daily_high} a day. The higher tier
  counts **credits purchased, all time**: a one-time purchase of {threshold} credits keeps it even
  after the balance is spent.
- Paid models: **no platform request cap**, so the balance-linked RPS of sections 4 and 5 is
  history; only DDoS protection and the upstream providers limit them.
- `GET /api/v1/key` reports `free_model_daily_requests`; its old `rate_limit` field is deprecated
  (always `-1`). `GET /api/v1/credits` needs a management key.
- Unchanged: a negative balance answers `402` even on free models; rejected attempts count toward
  the day; the day ends at 00:00 UTC; `X-RateLimit-*` headers come only on error answers; upstream
  `429`s may carry `Retry-After`.

Newer still, and not modelled by the emulator: an **in-flight spending budget** (late 2026) that
can answer `402` with `Retry-After` when too many expensive paid requests run at once; typed error
fields (`error_type`, `availability`); and `403` "Budget limit exceeded" when a per-key or
workspace budget runs out.

The same balance under each version:
"""),
    code("policies-compared", """
from orwidgets import explain_paid_rps, daily_free_quota

for version in POLICIES.values():
    print(f"{version.id:>12}: free/day {daily_free_quota(0, version)} -> "
          f"{daily_free_quota(10, version)} after 10 credits; "
          f"$25 balance: {explain_paid_rps(25, version).text}")
"""),
    md("real-key", """
## 11. With your own key (optional)

Everything above used the emulator. To look at your real account, set the environment variable
`OPENROUTER_API_KEY` before starting Jupyter. The cell below then asks OpenRouter (and only then)
for `GET /api/v1/key`, which costs nothing, and prints your free requests left; the key itself is
never printed. Without a key it skips.
"""),
    code("real-key-code", """
import os
from orwidgets.client import OPENROUTER_API_BASE

if not os.environ.get("OPENROUTER_API_KEY"):
    print("Skipped: OPENROUTER_API_KEY is not set (everything above used the local emulator).")
else:
    real = OpenRouterClient(OPENROUTER_API_BASE, os.environ["OPENROUTER_API_KEY"])
    r = real.get_key()
    if r.ok:
        data = r.body["data"]
        print("free model requests today:", data.get("free_model_daily_requests", "(not reported)"))
        print("usage (USD):", data.get("usage"), " never paid:", data.get("is_free_tier"))
    else:
        print(f"OpenRouter answered {r.status}: {r.message}")
"""),
]

# --- 02: the embed gallery ----------------------------------------------------------------------

GALLERY: list[Cell] = [
    md("title", """
# orwidgets gallery: every widget, embedded

Each widget is an ipywidgets box you can put in any notebook or Voila app: construct it and leave
it as the last expression of a cell, or place it in a `VBox`/`HBox`/`Tab` of your own. Every widget
takes a `policy` (`{legacy_id}`, `{default_id}` = the default, `{current_id}`) and an optional
shared `account`; the keyword arguments below are their starting values.
"""),
    code("imports", """
import ipywidgets as W
from orwidgets import (AccountModel, AccountPanel, Dashboard, DepletionPlanner, FreeQuotaExplorer,
                       LiveCalls, RPSExplorer, TopUpAdvisor)
from orwidgets.emulator import start
"""),
    md("rps", """
## RPSExplorer

Paid requests per second for a balance. Here under the old rules, starting at half a dollar.
Parameters: `account`, `policy`, `balance_usd`.
"""),
    code("rps-code", 'RPSExplorer(policy="legacy-2024", balance_usd=0.5)'),
    md("quota", """
## FreeQuotaExplorer

The free daily quota with and without a top-up, and how long it lasts at your pace.
Parameters: `account`, `policy`, `purchased_usd`, `topped_up`, `calls_per_hour`.
"""),
    code("quota-code", "FreeQuotaExplorer(topped_up=True, calls_per_hour=60)"),
    md("planner", """
## DepletionPlanner

When does a spending app's RPS ceiling fall below its need, and which top-up keeps it above?
Parameters: `account` (its balance is the starting balance), and the planner's inputs such as
`needed_rps`, `horizon_hours`, `cost_per_request_usd`.
"""),
    code("planner-code", "DepletionPlanner(AccountModel(balance_usd=25.0), needed_rps=20)"),
    md("advisor", """
## TopUpAdvisor

Should this account buy the credits? Presets for the article's kinds of user.
Parameters: `account`, `preset`, and needs such as `free_calls_per_day`.
"""),
    code("advisor-code", 'TopUpAdvisor(preset="heavy developer (agent-mode tools)")'),
    md("linked", """
## A linked pair

Widgets that share an `AccountModel` move together: drag the balance in one, top up in the other,
or change the account from code.
"""),
    code("linked-code", """
account = AccountModel(balance_usd=4.0, purchased_usd=4.0)
W.VBox([RPSExplorer(account), FreeQuotaExplorer(account)])
"""),
    code("linked-drive", """
account.balance_usd = 12.0  # both widgets redraw
account.topped_up = True    # raises the purchases to the threshold
print(account.balance_usd, account.purchased_usd, account.topped_up)
"""),
    md("live", """
## LiveCalls and AccountPanel

Real requests against the in-kernel emulator (`start()` returns the running one). `LiveCalls`
takes the emulator handle, `account`, `policy`, and for the real API `api_key` (otherwise
`OPENROUTER_API_KEY`), a confirmation and a cap per run. `AccountPanel` reads an account:
`target` (`"emulator"`, `"openrouter"`, `"custom"`), `demo_account`, `base_url`, `api_key`.
"""),
    code("live-code", """
emu = start()
LiveCalls(emu)
"""),
    code("panel-code", """
panel = AccountPanel(demo_account="five")
panel.refresh()
panel
"""),
    md("dashboard", """
## Dashboard

Everything in tabs over one shared account. Parameters: `account`, and keyword dictionaries for
the tabs that take options (`planner`, `account_panel`, `live_calls`).
"""),
    code("dashboard-code",
         'Dashboard(AccountModel(balance_usd=12.0), live_calls={"emulator": emu})'),
]

# --- 03: test your own app ----------------------------------------------------------------------

TEST_YOUR_APP: list[Cell] = [
    md("title", """
# Test your app against the emulator

Your code talks to OpenRouter through a base URL and a key. Point the base URL at the emulator and
you can make it meet every `402` and `429` on purpose, in seconds, for free: {per_minute} calls a
minute, {daily_low} a day, the midnight reset, a negative balance, a saturated provider.
"""),
    code("start", """
import os
import orwidgets
from orwidgets.emulator import start

emu = start()
BASE_URL = emu.api_base            # in your app: os.environ.get("OPENROUTER_BASE_URL", ...)
KEY = emu.keys["free"]             # a demo account that never topped up
FREE_MODEL = "meta-llama/llama-3.3-70b-instruct:free"
print(BASE_URL)
"""),
    md("openai-sdk", """
## With the `openai` SDK

Set `base_url` and `api_key`. Note `max_retries=0`: the SDK retries `429`s on its own by default,
and against the per-day cap every retry counts.
"""),
    code("openai-sdk-code", """
import openai

client = openai.OpenAI(base_url=BASE_URL, api_key=KEY, max_retries=0)
reply = client.chat.completions.create(
    model=FREE_MODEL, messages=[{"role": "user", "content": "Say hi"}], max_tokens=16)
print(reply.choices[0].message.content, "| cost:", reply.usage.model_extra.get("cost"))
"""),
    md("httpx", "## With plain `httpx`"),
    code("httpx-code", """
import httpx

http = httpx.Client(base_url=BASE_URL, headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
resp = http.post("/chat/completions", json={"model": FREE_MODEL, "max_tokens": 16,
                                             "messages": [{"role": "user", "content": "hi"}]})
print(resp.status_code, resp.json()["choices"][0]["message"]["content"])
"""),
    md("handle-429", """
## Handling `429` in your code

Tell the kinds apart by `error.message` (or `error.metadata.limit_source`), as in this handler:
per minute ({msg_per_minute}) -> wait for `X-RateLimit-Reset`; per day ({msg_per_day_low}) -> stop
until 00:00 UTC; upstream ({msg_upstream}) -> back off, honour `Retry-After`.
"""),
    code("handler", """
from datetime import datetime, timezone

def what_to_do(exc: openai.RateLimitError) -> str:
    error = exc.body if isinstance(exc.body, dict) else {}
    message = error.get("message", "")
    reset_ms = exc.response.headers.get("x-ratelimit-reset")
    reset = datetime.fromtimestamp(int(reset_ms) / 1000, timezone.utc) if reset_ms else None
    if "free-models-per-min" in message:
        return f"per-minute cap: wait until {reset:%H:%M:%S} UTC, then retry"
    if "free-models-per-day" in message:
        return f"per-day cap: stop until {reset:%Y-%m-%d %H:%M} UTC (retries count)"
    return f"upstream or other: back off {exc.response.headers.get('retry-after', 'a few')} s"

emu.emulator.reset()
emu.emulator.clock.set(datetime(2025, 5, 1, 12, 0, 1, tzinfo=timezone.utc).timestamp())
for i in range(1, 23):
    try:
        client.chat.completions.create(
            model=FREE_MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=8)
    except openai.RateLimitError as exc:
        print(f"call {i}: 429 -> {what_to_do(exc)}")
        break
"""),
    md("handle-402", """
## Handling `402`

A `402` never goes away by waiting. Either the balance is **negative** (then even free models
answer {msg_negative}), or the balance cannot cover the `max_tokens` you asked for. The `openai`
SDK raises a plain `APIStatusError` for it: show the message, ask for credits, do not retry.
"""),
    code("handle-402-code", """
broke = openai.OpenAI(base_url=BASE_URL, api_key=emu.keys["negative"], max_retries=0)
try:
    broke.chat.completions.create(model=FREE_MODEL, messages=[{"role": "user", "content": "hi"}],
                                  max_tokens=8)
except openai.APIStatusError as exc:
    print(exc.status_code, exc.body["message"])
"""),
    md("with-retries", """
## Or let the retry helper decide

`orwidgets.client.with_retries` wraps any call (an SDK call, an `httpx` call) and applies the rules
above: it waits for `X-RateLimit-Reset` on a per-minute `429`, honours `Retry-After` with jitter on
an upstream `429`, and gives up at once on a per-day `429` or a `402`, saying why. Its `clock` and
`sleep` are injectable: here the emulator's clock, so a minute's wait takes no time.
"""),
    code("with-retries-code", """
from orwidgets.client import RetryGaveUp, with_retries

clock = emu.emulator.clock
emu.emulator.reset()
clock.set(datetime(2025, 5, 1, 12, 0, 1, tzinfo=timezone.utc).timestamp())
ask = lambda sdk: sdk.chat.completions.create(
    model=FREE_MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=8)
for _ in range(orwidgets.free_per_minute()):
    ask(client)  # spend this minute's free calls
def show(attempt):
    print(f"{attempt.result.call_class.label}: waiting {attempt.wait_s:.1f} s")

reply = with_retries(lambda: ask(client), clock=clock.now, sleep=clock.advance, on_retry=show)
print("then:", reply.choices[0].message.content)
try:
    with_retries(lambda: ask(broke), clock=clock.now, sleep=clock.advance)
except RetryGaveUp as gave_up:
    print(f"402: gave up after {gave_up.attempts} call: {gave_up}")
"""),
    md("midnight", """
## The midnight reset, via the emulator clock

Move the emulator's clock to just before 00:00 UTC, spend the day's {daily_low} free calls, see the
per-day `429`, then let the clock pass midnight: the pool is full again. The clock is set through
the emulator's admin API (header `X-Admin-Token`), which your own test suite can use too.
"""),
    code("midnight-code", """
admin = httpx.Client(base_url=emu.base_url, headers={"X-Admin-Token": emu.admin_token})
emu.emulator.reset()
print(admin.post("/_emulator/clock", json={"now": "2025-05-01T23:57:00Z"}).json()["now"])

def free_call():
    return http.post("/chat/completions", json={"model": FREE_MODEL, "max_tokens": 8,
                                                 "messages": [{"role": "user", "content": "hi"}]})

per_minute, per_day = orwidgets.free_per_minute(), orwidgets.daily_free_quota(0)
statuses = []
for i in range(per_day):                  # a minute's worth at a time, to stay under per-minute
    if i and i % per_minute == 0:
        admin.post("/_emulator/clock", json={"advance_seconds": 60})
    statuses.append(free_call().status_code)
resp = free_call()
print(f"{statuses.count(200)} OK, then {resp.status_code}: {resp.json()['error']['message']}")
print("X-RateLimit-Reset:", resp.headers["x-ratelimit-reset"],
      datetime.fromtimestamp(int(resp.headers["x-ratelimit-reset"]) / 1000, timezone.utc))
print(admin.post("/_emulator/clock", json={"now": "2025-05-02T00:00:05Z"}).json()["now"])
print("after midnight:", free_call().status_code)
"""),
    md("in-pytest", """
## In your test suite

The same in `pytest`: a session fixture starts the emulator once; each test resets it.

```python
import pytest
from orwidgets.emulator import start

@pytest.fixture(scope="session")
def openrouter():
    handle = start()
    yield handle
    handle.stop()

def test_my_app_backs_off_on_the_daily_cap(openrouter, monkeypatch):
    openrouter.emulator.reset()
    monkeypatch.setenv("OPENROUTER_BASE_URL", openrouter.api_base)
    ...
```
"""),
    md("real-key", """
## Against the real API (optional)

With `OPENROUTER_API_KEY` set, the same client code runs against the real base URL,
`orwidgets.client.OPENROUTER_API_BASE`.
The cell below only reads `GET /api/v1/key` (free); without a key it skips.
"""),
    code("real-key-code", """
from orwidgets.client import OPENROUTER_API_BASE

if not os.environ.get("OPENROUTER_API_KEY"):
    print("Skipped: OPENROUTER_API_KEY is not set.")
else:
    real = httpx.Client(base_url=OPENROUTER_API_BASE, timeout=15,
                        headers={"Authorization": f"Bearer {os.environ['OPENROUTER_API_KEY']}"})
    resp = real.get("/key")
    data = resp.json().get("data", {}) if resp.status_code == 200 else {}
    print(resp.status_code, data.get("free_model_daily_requests", "(not reported)"))
"""),
]

NOTEBOOKS: dict[str, list[Cell]] = {
    "01-tutorial.ipynb": TUTORIAL,
    "02-embed-gallery.ipynb": GALLERY,
    "03-test-your-app.ipynb": TEST_YOUR_APP,
}

_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def render(cells: list[Cell], values: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """One notebook from its cells: markdown templates filled, no outputs, stable cell ids."""
    values = prose_values() if values is None else values
    seen: set[str] = set()
    nb = new_notebook(metadata=_METADATA)
    for cell in cells:
        if cell.id in seen:
            raise ValueError(f"duplicate cell id {cell.id!r}")
        seen.add(cell.id)
        if cell.kind == "md":
            nb.cells.append(new_markdown_cell(cell.source.format_map(values), id=cell.id))
        elif cell.kind == "code":
            nb.cells.append(new_code_cell(cell.source, id=cell.id))
        else:
            raise ValueError(f"cell {cell.id!r}: unknown kind {cell.kind!r}")
    nbformat.validate(nb)
    return nb


def build_all() -> dict[str, str]:
    """File name -> the exact text of the notebook file."""
    values = prose_values()
    return {
        name: nbformat.writes(render(cells, values)) + "\n" for name, cells in NOTEBOOKS.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if notebooks/ is out of date")
    args = parser.parse_args(argv)
    stale = []
    for name, text in build_all().items():
        path = NOTEBOOK_DIR / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            NOTEBOOK_DIR.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("out of date (run tools/build_notebooks.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
