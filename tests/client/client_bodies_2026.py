"""The 2026 answers as the reference records them (``shared/reference/openrouter-2026.md``).

Shapes, codes, reasons and header values are copied from the captures and documented examples
cited next to each body; the message texts are built through :mod:`orwidgets.policy` where it has
them (``tests/test_policy.py`` checks those texts against the captured ones). Where the reference
has a verbatim capture whose wording differs from the policy's (the key-limit 403's workspace URL),
the capture is kept verbatim.
``user_id`` values are elided, as in the reference.

(A plain module with a unique name: test files cannot import a conftest.)
"""

from __future__ import annotations

from typing import Any

from orwidgets.policy import (
    MESSAGES,
    LimitSource,
    affordability_message,
    capacity_exhausted_message,
    free_variant_ended_message,
    key_limit_message,
)

USER = "user_…"

#: §1.1 limits.mdx@221d5fb example, hermes-agent#102517 (``metadata.headers``), top-level user_id.
IN_FLIGHT_402: dict[str, Any] = {
    "error": {
        "message": MESSAGES.in_flight,
        "code": 402,
        "metadata": {
            "reason": "in_flight_budget_exhausted",
            "limit_source": LimitSource.IN_FLIGHT.value,
            "remedy_hint": MESSAGES.remedy_in_flight,
            "headers": {"Retry-After": "120"},
        },
    },
    "user_id": USER,
}
#: §1.3 the same answer as printed by the openai SDK in a research log: no remedy_hint, no headers.
IN_FLIGHT_402_TRIMMED: dict[str, Any] = {
    "error": {
        "message": MESSAGES.in_flight,
        "code": 402,
        "metadata": {"reason": "in_flight_budget_exhausted",
                     "limit_source": LimitSource.IN_FLIGHT.value},
    }
}
#: §1.1 the Anthropic-Messages skin: no metadata, only the message.
IN_FLIGHT_402_ANTHROPIC: dict[str, Any] = {
    "type": "error",
    "error": {"type": "billing_error", "message": MESSAGES.in_flight,
              "error_type": "payment_required"},
    "request_id": "req_1",
}
#: §1.3 "os dois motivos vistos em produção" (2026-09-05).
WEIGHT_402: dict[str, Any] = {
    "error": {
        "message": MESSAGES.weight_exceeds_budget,
        "code": 402,
        "metadata": {"reason": "weight_exceeds_budget", "limit_source": LimitSource.CREDITS.value},
    }
}
AFFORD_N, AFFORD_M = 16384, 9862


def _afford_402(message: str, source: LimitSource, remedy: str,
                previous: list[str] | None = None) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "code": 402,
            "metadata": {
                "limit_source": source.value,
                "remedy_hint": remedy,
                "provider_name": None,
                "previous_errors": [{"code": 402, "message": m} for m in (previous or [message])],
            },
        },
        "user_id": USER,
    }


#: §2.3 the 2026 affordability 402 (limit_source openrouter_credits).
AFFORD_402_2026 = _afford_402(affordability_message(AFFORD_N, AFFORD_M), LimitSource.CREDITS,
                              MESSAGES.remedy_credits)
#: §2.3 (2026-08-31, 2026-10-04): the prose names the key, limit_source says credits.
KEY_PROSE_CREDITS_402 = _afford_402(
    affordability_message(AFFORD_N, AFFORD_M).split(" To increase")[0]
    + " To increase, visit https://openrouter.ai/workspaces/default/keys/abc123 and adjust the "
    "key's daily limit",
    LimitSource.CREDITS, MESSAGES.remedy_credits,
)
#: §2.3 several endpoints tried, each with its own M.
AFFORD_SMALLER_M = 7000
AFFORD_402_PREVIOUS = _afford_402(
    affordability_message(AFFORD_N, AFFORD_M), LimitSource.CREDITS, MESSAGES.remedy_credits,
    previous=[affordability_message(AFFORD_N, AFFORD_M),
              affordability_message(AFFORD_N, AFFORD_SMALLER_M)],
)
#: §2.3 the affordability 402 bound by the key's remaining limit.
KEY_AFFORD_402 = _afford_402(affordability_message(AFFORD_N, AFFORD_M), LimitSource.KEY_LIMIT,
                             MESSAGES.remedy_key_limit)
#: §2.3 or-toolbox error-402-chat-image-balance.recorded.json (2026-10-02): no "can only afford".
KEY_IMAGE_402 = _afford_402("This request requires at least $1.00 in balance for image or video "
                            "output", LimitSource.KEY_LIMIT, MESSAGES.remedy_key_limit)
#: §2.3 the 2026-07-30 incident: "Insufficient credits" with limit_source openrouter_credits.
INSUFFICIENT_402_2026: dict[str, Any] = {
    "error": {
        "message": MESSAGES.negative_balance,
        "code": 402,
        "metadata": {"limit_source": LimitSource.CREDITS.value,
                     "remedy_hint": MESSAGES.remedy_credits},
    }
}
#: §2.2 the newest key-limit 403 (~2026-10), verbatim but for the redacted hash.
KEY_LIMIT_RESETS_ISO = "2026-10-12T00:00:00.000Z"
KEY_LIMIT_403_CAPTURED: dict[str, Any] = {
    "error": {
        "message": "Key limit exceeded (weekly limit). Manage it using "
                   "https://openrouter.ai/workspaces/default/keys/abc123 $20.05 of $20.00 used; "
                   f"resets {KEY_LIMIT_RESETS_ISO}.",
        "code": 403,
        "metadata": {"limit_source": LimitSource.KEY_LIMIT.value},
    }
}
#: The same, in the policy's 2026-10 wording (what the emulator sends).
KEY_LIMIT_403_2026_10: dict[str, Any] = {
    "error": {
        "message": key_limit_message("2026-10", "weekly", used_usd=20.05, limit_usd=20.0,
                                     resets_at=KEY_LIMIT_RESETS_ISO),
        "code": 403,
        "metadata": {"limit_source": LimitSource.KEY_LIMIT.value},
    }
}


def key_limit_403(form: str, period: str | None) -> dict[str, Any]:
    """§2.2 the older key-limit 403s: no metadata, no reset time."""
    return {"error": {"message": key_limit_message(form, period), "code": 403}}


#: §3 the emulator shape the reference assembles for a workspace budget [GUESS there].
WORKSPACE_RESETS_ISO = "2026-12-01T00:00:00.000Z"
WORKSPACE_403: dict[str, Any] = {
    "error": {
        "code": 403,
        "message": "Workspace monthly budget of $500.00 exceeded. Contact your org admin.",
        "metadata": {"limit_source": LimitSource.WORKSPACE_BUDGET.value, "scope": "workspace",
                     "limit_usd": 500, "spend_usd": 500.42, "resets_at": WORKSPACE_RESETS_ISO},
    },
    "user_id": USER,
}
#: §4 errors-and-debugging.mdx example (no numeric error.code in the docs' example).
CAPACITY_MODEL = "anthropic/claude-sonnet-4.5"
CAPACITY_FALLBACK = "anthropic/claude-haiku-4.5"
CAPACITY_RETRY_AFTER = 40


def capacity_429(retry_after: int | None = CAPACITY_RETRY_AFTER,
                 fallbacks: tuple[str, ...] = (CAPACITY_FALLBACK,)) -> dict[str, Any]:
    availability: dict[str, Any] = {
        "code": "capacity_exhausted", "retryable": True,
        "requested_models": [CAPACITY_MODEL],
        "affected_providers": ["anthropic", "amazon-bedrock", "google-vertex"],
        "docs_url": "https://openrouter.ai/docs/errors#capacity_exhausted",
    }
    if retry_after is not None:
        availability["retry_after"] = retry_after
    if fallbacks:
        availability["fallback_models"] = list(fallbacks)
    return {
        "error": {
            "message": capacity_exhausted_message(CAPACITY_MODEL, retry_after or 0),
            "error_type": "rate_limit_exceeded",
            "http_status": 429,
            "availability": availability,
            "metadata": {"previous_errors": [
                {"provider": "anthropic", "code": "capacity_exhausted", "status": 429},
                {"provider": "amazon-bedrock", "code": "capacity_exhausted", "status": 429},
            ]},
        }
    }


#: §5 the shape the reference gives for free_variant_ended (message: the policy's own wording).
FREE_MODEL = "vendor/model:free"
PAID_TWIN = "vendor/model"
FREE_VARIANT_ENDED_404: dict[str, Any] = {
    "error": {
        "code": 404,
        "message": free_variant_ended_message(FREE_MODEL, PAID_TWIN),
        "error_type": "not_found",
        "http_status": 404,
        "availability": {"code": "free_variant_ended", "retryable": False,
                         "requested_models": [FREE_MODEL], "fallback_models": [PAID_TWIN],
                         "docs_url": "https://openrouter.ai/docs/errors#free_variant_ended"},
    }
}
#: §4 or-toolbox (2026-10-02): a single-provider upstream 429, hints only in the metadata.
UPSTREAM_429_2026_10: dict[str, Any] = {
    "error": {
        "message": MESSAGES.upstream,
        "code": 429,
        "metadata": {
            "raw": "liquid/lfm-7b:free is temporarily rate-limited upstream. Please retry shortly, "
                   "or add your own key to accumulate your rate limits: "
                   "https://openrouter.ai/settings/integrations",
            "provider_name": "Liquid", "is_byok": False,
            "provider_error_code": "rate_limit_exceeded",
            "limit_source": LimitSource.UPSTREAM.value,
            "remedy_hint": "Retry shortly, add your own provider key "
                           "(https://openrouter.ai/settings/integrations), or route to another "
                           "provider with provider routing: "
                           "https://openrouter.ai/docs/features/provider-routing",
            "retry_after_seconds": 1, "retry_after_seconds_raw": 1,
            "headers": {"Retry-After": "1"},
        },
    },
    "user_id": USER,
}
