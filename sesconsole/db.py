"""Set-based SQL that the ORM cannot express, written once for PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def _placeholder(field: models.Field) -> str:
    # PostgreSQL types VALUES columns from their first row, so parameters need a cast;
    # SQLite has no such need (and its CAST would coerce dates to numbers).
    if connection.vendor == "postgresql":
        return f"CAST(%s AS {field.db_type(connection)})"
    return "%s"


def update_rows(objs: Sequence[models.Model], fields: Sequence[str], chunk: int = 1000) -> int:
    """Write `fields` of each object back in one UPDATE … FROM (VALUES …) per chunk.

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
    columns = [pk.column] + [f.column for f in model_fields]
    row_sql = "(" + ", ".join(_placeholder(f) for f in [pk, *model_fields]) + ")"
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in model_fields)
    table = qn(meta.db_table)
    updated = 0
    for start in range(0, len(objs), chunk):
        part = objs[start : start + chunk]
        params: list = []
        for obj in part:
            params.append(obj.pk)
            for field in model_fields:
                params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
        sql = (
            f"WITH v ({', '.join(qn(c) for c in columns)}) AS (VALUES {', '.join([row_sql] * len(part))}) "
            f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{qn(pk.column)} = v.{qn(pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated


def insert_new_rows(
    objs: Sequence[models.Model],
    fields: Sequence[str],
    conflict_fields: Sequence[str],
    returning: str,
    chunk: int = 1000,
) -> list:
    """INSERT … ON CONFLICT (conflict_fields) DO NOTHING RETURNING pk, `returning`.

    Returns (pk, value of `returning`) for the rows that were really inserted: what
    bulk_create(ignore_conflicts=True) cannot tell.
    """
    if not objs:
        return []
    meta = type(objs[0])._meta
    qn = connection.ops.quote_name
    model_fields = [meta.get_field(name) for name in fields]
    columns = ", ".join(qn(f.column) for f in model_fields)
    conflict = ", ".join(qn(meta.get_field(name).column) for name in conflict_fields)
    row_sql = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
    ret = qn(meta.get_field(returning).column)
    rows: list = []
    for start in range(0, len(objs), chunk):
        part = objs[start : start + chunk]
        params = [
            field.get_db_prep_save(getattr(obj, field.attname), connection)
            for obj in part
            for field in model_fields
        ]
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES {', '.join([row_sql] * len(part))} "
            f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {qn(meta.pk.column)}, {ret}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows.extend(cursor.fetchall())
    return rows
