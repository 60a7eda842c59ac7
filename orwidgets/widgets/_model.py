"""The shared account model behind every widget (no widgets here: plain traitlets).

One :class:`AccountModel` holds what several views look at: the policy version, the balance, the
credits purchased and whether that counts as a top-up. The dashboard hands the same instance to
every tab, so a balance changed in one place reaches every view.
"""

from __future__ import annotations

import math

from traitlets import Bool, Float, HasTraits, Int, TraitError, Unicode, observe, validate

from ..policy import (
    DEFAULT_POLICY_ID,
    POLICIES,
    TOPUP_THRESHOLD_USD,
    PolicyVersion,
    get_policy,
    policy_choices,
    resolve_policy_id,
)

__all__ = ["AccountModel", "PolicyId", "FiniteFloat", "MAX_USD", "topup_threshold"]

#: Typed amounts are clamped to +/- this many dollars: far above the 500 RPS cap (at $500), and
#: small enough that every float in the views stays exact to the cent.
MAX_USD = 1_000_000.0


def topup_threshold(version: PolicyVersion) -> float:
    """Credits that count as "topped up": the version's threshold, or the 2025-04 one where a
    version has no tier (under ``legacy-2024`` buying 10 credits still happens, it just changes
    nothing for free calls)."""
    threshold = version.topup_threshold_usd
    return threshold if threshold is not None else TOPUP_THRESHOLD_USD


class PolicyId(Unicode):
    """A policy version id from :data:`orwidgets.policy.POLICIES`."""

    info_text = "a policy version id (" + ", ".join(policy_choices()) + ")"
    default_value = DEFAULT_POLICY_ID

    def validate(self, obj, value):  # type: ignore[override]
        value = super().validate(obj, value)
        try:
            return resolve_policy_id(value)  # "current" is stored as the dated id it names
        except ValueError as exc:
            raise TraitError(str(exc)) from None


class FiniteFloat(Float):
    """A float that refuses NaN and infinity with a message naming the trait."""

    info_text = "a finite number"

    def validate(self, obj, value):  # type: ignore[override]
        value = super().validate(obj, value)
        if not math.isfinite(value):
            raise TraitError(f"{self.name}: expected a finite number, got {value!r}")
        return value


class AccountModel(HasTraits):
    """An OpenRouter account as the explorers see it.

    Parameters
    ----------
    policy : str
        Policy version id (default: the article's, ``2025-04``).
    balance_usd : float
        Credit balance in US dollars (negative is allowed: it is what triggers 402).
    purchased_usd : float
        Credits purchased all-time (the quantity the $10 rule tests). Negative values clamp to 0.

    Attributes
    ----------
    topped_up : bool
        Derived: ``purchased_usd >= threshold``. Setting it ``True`` raises ``purchased_usd`` to at
        least the threshold; ``False`` sets it to 0.
    free_used_today : int or None
        Free-model requests counted today, when an account panel read them from ``GET /key``.
    source : str
        Where the numbers come from: ``"manual"`` or the account panel's target.

    Notes
    -----
    Bad values: NaN, infinity and non-numbers raise :class:`traitlets.TraitError` naming the
    trait; amounts beyond +/- :data:`MAX_USD` clamp to it; a negative ``purchased_usd`` clamps to 0.
    The widgets catch these and show a notice instead of raising.
    """

    policy = PolicyId(DEFAULT_POLICY_ID, help="Policy version id (orwidgets.policy.POLICIES)")
    balance_usd = FiniteFloat(5.0, help="Credit balance in US dollars (may be negative)")
    purchased_usd = FiniteFloat(5.0, help="Credits purchased all-time, US dollars (>= 0)")
    topped_up = Bool(
        False, help="Derived: purchased_usd >= the top-up threshold (10 credits); settable"
    )
    free_used_today = Int(
        None, allow_none=True, help="Free-model requests used today, when read from GET /key"
    )
    source = Unicode("manual", help="Where balance and purchases come from")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._sync_topped_up()

    def __repr__(self) -> str:
        return (
            f"AccountModel(policy={self.policy!r}, balance_usd={self.balance_usd!r}, "
            f"purchased_usd={self.purchased_usd!r}, topped_up={self.topped_up!r})"
        )

    @property
    def version(self) -> PolicyVersion:
        """The :class:`~orwidgets.policy.PolicyVersion` for :attr:`policy`."""
        return get_policy(self.policy)

    @property
    def threshold_usd(self) -> float:
        return topup_threshold(self.version)

    @validate("balance_usd")
    def _clamp_balance(self, proposal):
        return min(MAX_USD, max(-MAX_USD, proposal["value"]))

    @validate("purchased_usd")
    def _clamp_purchased(self, proposal):
        return min(MAX_USD, max(0.0, proposal["value"]))

    @observe("purchased_usd", "policy")
    def _on_purchased(self, change) -> None:
        self._sync_topped_up()

    def _sync_topped_up(self) -> None:
        self.topped_up = self.purchased_usd >= self.threshold_usd

    @observe("topped_up")
    def _on_topped_up(self, change) -> None:
        threshold = self.threshold_usd
        if change["new"] and self.purchased_usd < threshold:
            self.purchased_usd = threshold
        elif not change["new"] and self.purchased_usd >= threshold:
            self.purchased_usd = 0.0

    def topup(self, usd: float) -> None:
        """Buy ``usd`` credits: raises both the balance and the purchases, as OpenRouter does."""
        amount = float(usd)
        if not math.isfinite(amount) or amount <= 0:
            raise ValueError(f"usd: a top-up must be a finite amount above zero, got {usd!r}")
        with self.hold_trait_notifications():
            self.balance_usd = self.balance_usd + amount
            self.purchased_usd = self.purchased_usd + amount
