"""Threshold checks that explain themselves: each returns None, or the detail of a rejection."""
from __future__ import annotations

from collections.abc import Iterable

from operators.base import Verdict


def _show(value: float) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def below(name: str, value: float, limit: float) -> str | None:
    return f"{name}={_show(value)} < {limit}" if value < limit else None


def above(name: str, value: float, limit: float) -> str | None:
    return f"{name}={_show(value)} > {limit}" if value > limit else None


def first_failure(details: Iterable[str | None]) -> Verdict:
    """True when every check passed, else (False, the first failed check's detail)."""
    failed = next((detail for detail in details if detail), None)
    return True if failed is None else (False, failed)


def ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0
