"""Exceptions that callers of django-tracker are expected to catch."""

from __future__ import annotations


class InvalidLabel(ValueError):
    """A label query broke a syntax rule; nothing of it was counted.

    ``rule`` is a short machine-readable code (``"empty_item"``,
    ``"too_many_parts"``, ``"too_long"``, ...), ``item`` the offending item as
    sent (or ``None`` for rules about the whole query) and ``position`` its
    1-based index in the query.
    """

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        item: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.item = item
        self.position = position


class CounterLimitReached(Exception):
    """Today's cap on new counters from anonymous clients is used up.

    Raised before anything of the request was counted.
    """


class FoldError(RuntimeError):
    """A fold could not finish; the cache still holds every count it did not move."""
