"""Admin list pages over tables of millions of rows: never count them all to draw a page.

`EstimatedCountPaginator` counts exactly up to `VIGIL_ADMIN_EXACT_COUNT_LIMIT` rows, with
`SELECT count(*) FROM (SELECT … LIMIT limit + 1)`, which stops at the limit. Past it, the
list says "about 1,000,000", the planner's estimate for the filtered query (PostgreSQL's
EXPLAIN, from its table statistics). Without a planner estimate (SQLite, for small
installations) it counts.
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


def planner_estimate(queryset) -> int | None:
    """PostgreSQL's estimate of how many rows `queryset` returns, or None on another database."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def about(number: int) -> str:
    """An estimate as people say it: three significant figures ("about 195,000")."""
    if number >= 1000:
        scale = 10 ** (int(math.log10(number)) - 2)
        number = round(number / scale) * scale
    return f"about {number:,}"


class EstimatedCountPaginator(Paginator):
    """A ModelAdmin's `paginator`: exact counts while they are cheap, the planner's estimate past them."""

    estimated = False

    @cached_property
    def count(self) -> int:
        limit = settings.VIGIL_ADMIN_EXACT_COUNT_LIMIT
        counted = self.object_list.order_by().values("pk")[: limit + 1].count()
        if counted <= limit:
            return counted
        estimate = planner_estimate(self.object_list)
        if estimate is None:
            return self.object_list.count()
        self.estimated = True
        return max(estimate, counted)

    @property
    def shown_count(self) -> str:
        """The count as the list page prints it: "1,234" or "about 1,000,000"."""
        return about(self.count) if self.estimated else f"{self.count:,}"
