"""Counts of one domain filter straight from the stored events, for the times the rollups
do not hold that domain on its own (a tail domain, or before it was tracked).

A tail domain has little traffic by definition: the query walks the account's messages of
that domain (index `message_account_rcpt_domain` / `message_account_sender_domain`) and
their events in the range (`event_message_time`), and adds exactly what the rollups would
have (`stats.rollups.contributions_sql`, the rebuild's own SELECT).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection

from delivery.models import PendingFold

from .models import COUNTERS
from .rollups import _minute_sql, contributions_sql


def counts_by_minute(
    account_id: int,
    sender_domain: str | None,
    recipient_domain: str | None,
    spans: list[tuple[datetime, datetime]],
) -> list[tuple[datetime, list[int]]]:
    """(UTC minute, counters) of the filter's contributions whose instant lies in `spans`.

    Events still waiting for their fold (deferred ingestion) are left out, as the rollups
    have not counted them yet either.
    """
    if not spans:
        return []
    adapt = connection.ops.adapt_datetimefield_value
    domain_where, domain_params = ["m.account_id = %s"], [account_id]
    if sender_domain:
        domain_where.append("m.sender_domain = %s")
        domain_params.append(sender_domain)
    if recipient_domain:
        domain_where.append("m.recipient_domain = %s")
        domain_params.append(recipient_domain)
    span_params = [adapt(at) for span in spans for at in span]

    def in_spans(column: str) -> str:
        return "(" + " OR ".join([f"({column} >= %s AND {column} < %s)"] * len(spans)) + ")"

    pending = connection.ops.quote_name(PendingFold._meta.db_table)
    where = " AND ".join(domain_where)
    sql, parts = contributions_sql(
        f"e.account_id = %s AND {where} AND {in_spans('e.timestamp')}"
        f" AND NOT EXISTS (SELECT 1 FROM {pending} p WHERE p.event_id = e.id)",
        f"{where} AND {in_spans('{column}')}",
    )
    params = [account_id, *domain_params, *span_params]
    params += [*domain_params, *span_params] * (parts - 1)
    sums = ", ".join(f"SUM(x.{c})" for c in COUNTERS)
    minute = _minute_sql("x.ts")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {minute}, {sums} FROM ({sql}) x GROUP BY 1", params)
        rows = cursor.fetchall()
    return [(_utc(at), [n or 0 for n in counts]) for at, *counts in rows]


def _utc(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)
