"""Pages of the block lists, in the console and the API."""

from __future__ import annotations

from functools import partial

from sesconsole.api_support import Pagination
from sesconsole.lib.pagination import CappedPaginator


class ListPaginator(CappedPaginator):
    # Sorted by address, expiry or stops, a count in that order may walk that column's
    # index far: any 10,001 rows are as good (0.7 s less for a big sender's list by address).
    count_in_order = False
    # How deep `walked` may serve. An account past the cap sees 1 in N/10,001 or more of
    # the N blocks a walk passes, so 1,000 rows test at most a tenth of what a join reads.
    WALK_ROWS = 1_000

    def __init__(self, object_list, per_page, *, walked=None):
        super().__init__(object_list, per_page)
        # The same rows, read by walking the sort's index (queries.invalid_blocks_visible_to's
        # `probe_each`): for the first pages of a list past the cap.
        self.walked = walked

    def page(self, number):
        page = super().page(number)
        if self.walked is not None and self.capped and page.end_index() <= self.WALK_ROWS:
            page.object_list = self.walked[page.start_index() - 1 : page.end_index()]
        return page


class BlockPagination(Pagination):
    """The API's pages of a block list, read as the console's: counted in any order, and
    walked where the view offers a `walked_queryset()` for the request."""

    def paginate_queryset(self, queryset, request, view=None):
        walked = view.walked_queryset() if hasattr(view, "walked_queryset") else None
        self.django_paginator_class = partial(ListPaginator, walked=walked)
        return super().paginate_queryset(queryset, request, view)
