"""An index for substring and prefix search that works on every supported database.

On PostgreSQL it is a trigram GIN index (pg_trgm, `gin_trgm_ops`) over `UPPER(column)`,
the expression Django's `icontains`/`istartswith`/`iendswith` lookups compare, so
`subject__icontains="invoice"` and `recipient__istartswith="alice@"` are index scans
rather than a read of every row in the date range. Elsewhere (SQLite, the default
embedded database) it is a plain B-tree index on the column: correct, and as fast as
that database gets for these lookups. The migration that adds one must first create the
`pg_trgm` extension on PostgreSQL (see delivery/migrations/0009).
"""

from __future__ import annotations

from django.db import models


class SearchIndex(models.Index):
    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        quote = schema_editor.quote_name
        columns = ", ".join(
            f"(UPPER({quote(model._meta.get_field(name).column)})) gin_trgm_ops"
            for name in self.fields
        )
        concurrently = " CONCURRENTLY" if kwargs.get("concurrently") else ""
        return (
            f"CREATE INDEX{concurrently} {quote(self.name)} "
            f"ON {quote(model._meta.db_table)} USING gin ({columns})"
        )
