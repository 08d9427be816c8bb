"""Set-based SQL that the ORM cannot express, written once for PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

# Field types whose Python values psycopg sends as they are: no per-value preparation.
_PLAIN_ON_POSTGRES = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigAutoField,
    models.AutoField,
    models.BooleanField,
    models.DateTimeField,
    models.GenericIPAddressField,
    models.ForeignKey,
)


def _columns_source(model_fields: Sequence[models.Field], part: Sequence[models.Model]):
    """A `WITH v (columns) AS (…)` clause holding the fields' values of `part`, and its parameters.

    PostgreSQL gets one array parameter per column, unnested (a handful of parameters
    whatever the row count, which psycopg binds far faster than thousands of scalars);
    SQLite gets a VALUES list.
    """
    qn = connection.ops.quote_name
    names = ", ".join(qn(f.column) for f in model_fields)
    if connection.vendor == "postgresql":
        arrays = [
            [getattr(obj, f.attname) for obj in part]
            if isinstance(f, _PLAIN_ON_POSTGRES)
            else [f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in part]
            for f in model_fields
        ]
        # %b: each array is sent in binary (server-side binding; see _execute).
        casts = ", ".join(f"%b::{f.db_type(connection)}[]" for f in model_fields)
        return f"WITH v ({names}) AS (SELECT * FROM unnest({casts}))", arrays
    row_sql = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
    params = [
        f.get_db_prep_save(getattr(obj, f.attname), connection)
        for obj in part
        for f in model_fields
    ]
    return f"WITH v ({names}) AS (VALUES {', '.join([row_sql] * len(part))})", params


def _execute(sql: str, params: list) -> tuple[int, list]:
    """Run `sql` on Django's connection, in its transaction; return (rowcount, rows).

    On PostgreSQL a plain psycopg cursor binds on the server, so the array parameters
    travel in binary: Django's client-side binding would escape every element as text,
    which costs more than the insert itself.
    """
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount, cursor.fetchall() if cursor.description else []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount, cursor.fetchall() if cursor.description else []


def update_rows(objs: Sequence[models.Model], fields: Sequence[str], chunk: int = 1000) -> int:
    """Write `fields` of each object back in one UPDATE … FROM per chunk.

    Django's bulk_update builds a CASE expression per field and row, which costs more CPU
    than the database spends on the whole write.
    """
    if not objs:
        return 0
    model = type(objs[0])
    meta = model._meta
    qn = connection.ops.quote_name
    pk = meta.pk
    model_fields = [meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in model_fields)
    table = qn(meta.db_table)
    updated = 0
    for start in range(0, len(objs), chunk):
        source, params = _columns_source([pk, *model_fields], objs[start : start + chunk])
        sql = (
            f"{source} UPDATE {table} SET {assignments} "
            f"FROM v WHERE {table}.{qn(pk.column)} = v.{qn(pk.column)}"
        )
        updated += _execute(sql, params)[0]
    return updated


def insert_new_rows(
    objs: Sequence[models.Model],
    fields: Sequence[str],
    conflict_fields: Sequence[str],
    returning: str,
    chunk: int = 1000,
) -> list:
    """INSERT … ON CONFLICT (conflict_fields) DO NOTHING RETURNING pk, `returning`.

    Empty `conflict_fields`: ON CONFLICT DO NOTHING with no target, for a table whose
    uniqueness no constraint of its own states (the partitioned event table). Returns (pk, value of `returning`) for the rows that were really inserted: what
    bulk_create(ignore_conflicts=True) cannot tell.
    """
    if not objs:
        return []
    meta = type(objs[0])._meta
    qn = connection.ops.quote_name
    model_fields = [meta.get_field(name) for name in fields]
    columns = ", ".join(qn(f.column) for f in model_fields)
    conflict = ", ".join(qn(meta.get_field(name).column) for name in conflict_fields)
    target = f"({conflict}) " if conflict else ""
    ret = qn(meta.get_field(returning).column)
    rows: list = []
    for start in range(0, len(objs), chunk):
        source, params = _columns_source(model_fields, objs[start : start + chunk])
        # "WHERE true" keeps SQLite from reading ON CONFLICT as part of a join (its docs).
        sql = (
            f"{source} INSERT INTO {qn(meta.db_table)} ({columns}) SELECT * FROM v WHERE true "
            f"ON CONFLICT {target}DO NOTHING RETURNING {qn(meta.pk.column)}, {ret}"
        )
        rows.extend(_execute(sql, params)[1])
    return rows
