"""``orwidgets conform``: is the emulator still true? A cheap probe that diffs an OpenRouter API
(the real one by default) against the emulator.

The same small plan of requests goes to the target and to an emulator inside this process, and
every difference comes back as a sentence a developer can act on::

    from orwidgets.conform import check

    report = check(confirm=True)          # OPENROUTER_API_KEY; one free-model request of quota
    report                                # a table in a notebook; print(report) for the text
    report.exit_code, report.differences  # 0 / 1 / 2, and each difference

From the shell: ``orwidgets conform --yes`` (``python -m orwidgets conform``). See the README,
section "Is the emulator still true? `orwidgets conform`".
"""

from __future__ import annotations

from ._check import (
    DEFAULT_MAX_CALLS,
    DEFAULT_TIMEOUT_S,
    KEY_ENV,
    acheck,
    check,
    describe_plan,
    infer_account,
    plan_for,
)
from ._probe import CREDITS_PROBE, PLAN, UNAFFORDABLE_MAX_TOKENS, UNKNOWN_MODEL, Probe
from ._report import (
    EXIT_DIFFERENT,
    EXIT_ERROR,
    EXIT_SAME,
    AccountShape,
    Difference,
    ProbeReport,
    Report,
)
from ._shape import template

__all__ = [
    "check",
    "acheck",
    "describe_plan",
    "plan_for",
    "infer_account",
    "Report",
    "ProbeReport",
    "Difference",
    "AccountShape",
    "Probe",
    "PLAN",
    "CREDITS_PROBE",
    "UNKNOWN_MODEL",
    "UNAFFORDABLE_MAX_TOKENS",
    "DEFAULT_MAX_CALLS",
    "DEFAULT_TIMEOUT_S",
    "KEY_ENV",
    "EXIT_SAME",
    "EXIT_DIFFERENT",
    "EXIT_ERROR",
    "template",
]
