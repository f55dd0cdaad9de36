"""How a throttle's or budget's limit is shared by the P partitions of the proposed topics.

Counters are kept per partition (decisions depend only on the events before them on their partition,
so any number of gate replicas decide as one and replay re-checks them). With ``split: even`` (the
default) the configured limit bounds the counter key as a whole: each partition gets ``1/P`` of it —
a throttle's emission interval ``P * per / rate`` rounded up and its burst ``burst // P`` (at least
one event), a budget's limit ``limit / P`` (rounded down to a float whose P-fold is at most the
limit). ``split: none`` keeps the limit per partition. Counters keyed by the workflow are not split:
all of a workflow's events are on one partition, so the limit is already exact for them.
"""

from __future__ import annotations

import math
from datetime import timedelta

from corps.policy.models import CounterScope, CounterSplit, Policy, Throttle
from corps.topology._durations import format_duration

__all__ = ["budget_constants", "split_among", "throttle_constants"]


def split_among(policy: Policy, partitions: int) -> int:
    """Among how many partitions ``policy``'s throttle or budget limit is shared (1: not split).

    ``split: none`` and counters keyed by the workflow (one partition holds all of a workflow's
    events) are not split; otherwise (``split: even``) the limit is shared by every partition.
    """
    effect = policy.throttle or policy.budget
    if effect is None or effect.split is CounterSplit.NONE or CounterScope.WORKFLOW in effect.by:
        return 1
    return partitions


def budget_constants(policy: Policy, partitions: int) -> tuple[float, str]:
    """A budget's limit on one partition and its text in decisions (``0.0, ""`` for other effects)."""
    if policy.budget is None:
        return 0.0, ""
    limit = policy.budget.limit
    shares = split_among(policy, partitions)
    if shares == 1:
        return limit, f"{limit:g}"
    share = limit / shares
    while share * shares > limit:  # never let the shares add up to more than the limit
        share = math.nextafter(share, 0.0)
    return share, f"{share:g} ({limit:g} over {shares} partitions)"


def throttle_constants(policy: Policy, rule: Throttle, partitions: int) -> tuple[int, int, str]:
    """A throttle's emission interval and burst tolerance (ns) on one partition, and its limit text."""
    per_ns = (rule.per // timedelta(microseconds=1)) * 1000
    shares = split_among(policy, partitions)
    text = f"{rule.rate} per {format_duration(rule.per)}"
    burst = rule.burst or rule.rate
    if shares == 1:
        interval = max(per_ns // rule.rate, 1)
    else:  # rounded up: the partitions' rates add up to at most the configured one
        interval = max(-(-shares * per_ns // rule.rate), 1)
        burst = max(burst // shares, 1)
        text = f"{text} over {shares} partitions"
    return interval, (burst - 1) * interval, text
