"""corps benchmarks: corps figures beside raw Kafka baselines, measured in the same run on one broker.

Run with ``make bench`` (``python -m bench``). Each benchmark module exposes ``ID``, ``TITLE``, ``NEEDS``
and ``run(ctx) -> list[Result]`` and is listed explicitly in :data:`bench.registry.MODULES`.
"""

from bench.context import BenchContext, Scale
from bench.results import GoalOp, RatioMode, Report, Result

__all__ = ["BenchContext", "GoalOp", "RatioMode", "Report", "Result", "Scale"]
