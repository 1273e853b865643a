"""Metric names a PromQL expression reads (enough for our dashboards and rules: every
metric of ours starts with ``mm_``)."""

from __future__ import annotations

import re

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"\b(mm_[a-z0-9_]+|up)\b")


def metric_names(expr: str) -> set[str]:
    """Names of ``mm_*`` metrics (and ``up``) in ``expr``; label names in matchers and
    grouping clauses (``mm_instance``) are not metrics and are left out."""
    bare = _GROUPING.sub(" ", _MATCHERS.sub(" ", _STRINGS.sub(" ", expr)))
    return set(_NAME.findall(bare))
