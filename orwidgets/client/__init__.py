"""Real HTTP calls to OpenRouter or the emulator, and what their answers mean.

* :class:`OpenRouterClient` / :class:`AsyncOpenRouterClient`: one call to any base URL, returned as
  a :class:`CallResult` (never raised), classified into a :class:`CallClass`;
* :func:`classify`: the class of an answer from its status, body and headers;
* :func:`run_load`: N calls at a target rate or concurrency over one connection pool;
* :func:`with_retries` / :func:`awith_retries`: retry the way the limits ask for;
* :func:`retry_decision_table`: what the retry helper does with each kind of answer, as a table;
* :data:`PRESETS` / :func:`run_preset`: scripted scenarios against the emulator;
* :func:`check_real_api`: the guard before any burst to a non-loopback address.

:data:`OPENROUTER_API_BASE` is never a default: callers choose the real API explicitly.
"""

from __future__ import annotations

from ._classify import (
    CallClass,
    CallResult,
    classify,
    parse_rate_limit,
    parse_retry_after,
    result_from_exception,
    result_from_response,
)
from ._decisions import RetryDecisionTable, retry_decision_table
from ._http import (
    DEFAULT_REAL_API_CAP,
    OPENROUTER_API_BASE,
    AsyncOpenRouterClient,
    OpenRouterClient,
    RealApiCapExceeded,
    RealApiNotConfirmed,
    api_base,
    check_real_api,
    is_loopback,
)
from ._presets import PRESETS, EmulatorAdmin, Preset, PresetRun, get_preset, run_preset
from ._retry import RetryAttempt, RetryGaveUp, awith_retries, with_retries
from ._runner import BackgroundJob, LoadRun, run_load

__all__ = [
    "OPENROUTER_API_BASE",
    "DEFAULT_REAL_API_CAP",
    "CallClass",
    "CallResult",
    "classify",
    "parse_rate_limit",
    "parse_retry_after",
    "result_from_response",
    "result_from_exception",
    "OpenRouterClient",
    "AsyncOpenRouterClient",
    "api_base",
    "is_loopback",
    "check_real_api",
    "RealApiNotConfirmed",
    "RealApiCapExceeded",
    "run_load",
    "LoadRun",
    "BackgroundJob",
    "with_retries",
    "awith_retries",
    "RetryGaveUp",
    "RetryAttempt",
    "retry_decision_table",
    "RetryDecisionTable",
    "PRESETS",
    "Preset",
    "PresetRun",
    "EmulatorAdmin",
    "get_preset",
    "run_preset",
]
