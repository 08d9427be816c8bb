"""Pagination that never counts more rows than a person would page through.

Counting every row of a large range costs as much as reading it (376 ms for a week at
10M events); past `CAP` rows the count says "more than" instead, and pages stop there.
"""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator

CAP = 10_000


class CappedPaginator(Paginator):
    cap = CAP
    # Any cap + 1 rows tell "more than", so the count need not read in the list's order.
    # Email status keeps it (its order is an index range the count stops early in); a list
    # whose orders can be costly to read in sets False (the blocklist's, sorted by address).
    count_in_order = True

    @cached_property
    def _counted(self) -> int:
        # COUNT over a LIMITed subquery: reads at most cap + 1 index entries.
        rows = self.object_list
        if not self.count_in_order:
            rows = rows.order_by()
        return rows[: self.cap + 1].count()

    @property
    def count(self) -> int:
        """The rows to page through: all of them, or `cap` when there are more."""
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        """True when more rows than `cap` match (and pages stop at `cap`)."""
        return self._counted > self.cap


class Concatenated:
    """Querysets read one after another as one list, for CappedPaginator.

    `ORDER BY status, requested_at` over a range of request times cannot be read from an
    index over (account, status, requested_at) without sorting the range first: PostgreSQL
    15 cannot skip from one status to the next. One queryset per status, each an index
    range of its own, read in turn, gives the same rows in the same order.
    """

    ordered = True  # each part is ordered; Paginator warns about unordered lists

    def __init__(self, parts, start: int = 0, stop: int | None = None):
        self.parts = list(parts)
        self.start, self.stop = start, stop

    def __getitem__(self, key):
        if isinstance(key, int):
            rows = self[key : key + 1]._rows
            if not rows:
                raise IndexError(key)
            return rows[0]
        if key.step not in (None, 1) or (key.start or 0) < 0 or (key.stop or 0) < 0:
            raise ValueError("only forward slices")
        start = self.start + (key.start or 0)
        stop = self.start + key.stop if key.stop is not None else self.stop
        if self.stop is not None and stop is not None:
            stop = min(stop, self.stop)
        return Concatenated(self.parts, start, stop)

    def _spans(self):
        """(part, first row, last row + 1) of each part's share of this slice."""
        offset = 0  # rows of the parts before this one
        for part in self.parts:
            if self.stop is not None and offset >= self.stop:
                return
            # Count no further than this slice needs (an index range of at most `stop` rows).
            limit = None if self.stop is None else self.stop - offset
            size = (part[:limit] if limit is not None else part).count()
            lo, hi = max(self.start - offset, 0), size
            if lo < hi:
                yield part, lo, hi
            offset += size

    def count(self) -> int:
        return sum(hi - lo for _, lo, hi in self._spans())

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self):
        return iter(self._rows)

    @cached_property
    def _rows(self) -> list:
        return [row for part, lo, hi in self._spans() for row in part[lo:hi]]
