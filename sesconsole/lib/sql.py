"""Set-based SQL that the ORM cannot express, written once for PostgreSQL and SQLite.

Every hand-written bulk write of the project goes through these builders: inserts that
report which rows were new, UPDATE … FROM for many rows, and counter upserts.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from django.db import connection, models
from django.db.models.base import ModelState

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
    """A `WITH v (columns) AS (…)` clause holding the fields' values of `part`, and its parameters."""
    columns = [
        [getattr(obj, f.attname) for obj in part]
        if connection.vendor == "postgresql" and isinstance(f, _PLAIN_ON_POSTGRES)
        else [f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in part]
        for f in model_fields
    ]
    return _values_source(model_fields, columns)


def _values_source(model_fields: Sequence[models.Field], columns: Sequence[list]):
    """A `WITH v (…)` clause of column-wise values already prepared for the database.

    PostgreSQL gets the rows as one JSON parameter (`rows_source`: one parameter whatever
    the row count, dumped in C); SQLite gets a VALUES list.
    """
    qn = connection.ops.quote_name
    names = ", ".join(qn(f.column) for f in model_fields)
    if connection.vendor == "postgresql":
        source, params = rows_source(
            [
                (qn(f.column), f.db_type(connection), column)
                for f, column in zip(model_fields, columns, strict=True)
            ]
        )
        return f"WITH {source}", params
    rows = len(columns[0]) if columns else 0
    row_sql = "(" + ", ".join(["%s"] * len(model_fields)) + ")"
    params = [column[i] for i in range(rows) for column in columns]
    return f"WITH v ({names}) AS (VALUES {', '.join([row_sql] * rows)})", params


def _execute(sql: str, params: list, binary: bool = False) -> tuple[int, list]:
    """Run `sql` on Django's connection, in its transaction; return (rowcount, rows).

    On PostgreSQL a plain psycopg cursor binds on the server, so the array parameters
    travel in binary: Django's client-side binding would escape every element as text,
    which costs more than the insert itself. `binary` asks for the rows in binary too
    (timestamps then come without parsing text; aware, in the connection's time zone).
    """
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, params, binary=binary)
            return cursor.rowcount, cursor.fetchall() if cursor.description else []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount, cursor.fetchall() if cursor.description else []


def execute(sql: str, params: list, binary: bool = False) -> tuple[int, list]:
    """Run hand-written SQL as the builders here do (server-side binding on PostgreSQL:
    `%b` parameters travel in binary); returns (rowcount, rows)."""
    return _execute(sql, params, binary)


def instance(model: type[models.Model], values: dict, **related) -> models.Model:
    """A model instance of a stored row from its field values by attname (the dict becomes
    the instance's own), with `related` objects cached as its foreign keys' targets.

    Model.__init__ walks every field for every object: ingestion builds thousands of rows
    per batch, for which that costs more than the database's work on them.
    """
    obj = model.__new__(model)
    state = values["_state"] = ModelState()
    state.adding = False
    state.db = "default"
    if related:
        state.fields_cache = related
    obj.__dict__ = values
    return obj


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
    conflict_fields: Sequence[str] | None,
    returning: str,
    chunk: int = 1000,
) -> list:
    """INSERT … ON CONFLICT (conflict_fields) DO NOTHING RETURNING pk, `returning`.

    Returns (pk, value of `returning`) for the rows that were really inserted: what
    bulk_create(ignore_conflicts=True) cannot tell. `conflict_fields=None` leaves out the
    conflict target, so any unique index (partial ones included) skips a row.
    """
    if not objs:
        return []
    meta = type(objs[0])._meta
    qn = connection.ops.quote_name
    model_fields = [meta.get_field(name) for name in fields]
    columns = ", ".join(qn(f.column) for f in model_fields)
    conflict = (
        "(" + ", ".join(qn(meta.get_field(name).column) for name in conflict_fields) + ")"
        if conflict_fields
        else ""
    )
    ret = qn(meta.get_field(returning).column)
    rows: list = []
    for start in range(0, len(objs), chunk):
        source, params = _columns_source(model_fields, objs[start : start + chunk])
        # "WHERE true" keeps SQLite from reading ON CONFLICT as part of a join (its docs).
        sql = (
            f"{source} INSERT INTO {qn(meta.db_table)} ({columns}) SELECT * FROM v WHERE true "
            f"ON CONFLICT {conflict} DO NOTHING RETURNING {qn(meta.pk.column)}, {ret}"
        )
        rows.extend(_execute(sql, params)[1])
    return rows


def rows_source(columns: Sequence[tuple[str, str, list]]) -> tuple[str, list]:
    """`v (names) AS (…)` holding (name, SQL type, values) columns, and its one parameter
    (PostgreSQL only; the builders above use it, and so can other statements).

    The rows travel as one JSON document that `json_to_recordset` reads into typed columns:
    orjson writes it in C, where psycopg dumps arrays element by element in Python (binary
    arrays cost ~25 µs per ingested event in dumping alone; docs/performance.md)."""
    names = ", ".join(name for name, _, _ in columns)
    keys = [f"c{i}" for i in range(len(columns))]
    record = ", ".join(
        f"{key} {sql_type}" for key, (_, sql_type, _) in zip(keys, columns, strict=True)
    )
    rows = [
        dict(zip(keys, row, strict=True)) for row in zip(*(v for _, _, v in columns), strict=True)
    ]
    return (
        f"v ({names}) AS (SELECT * FROM json_to_recordset(%s::json) AS x({record}))",
        [orjson.dumps(rows).decode()],
    )


def add_to_counters(
    model: type[models.Model],
    key_fields: Sequence[str],
    counter_fields: Sequence[str],
    rows: Sequence[tuple],
    chunk: int = 1000,
) -> int:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET n = n + EXCLUDED.n, for counter rows.

    `rows` are tuples of the key values then the counter values, in the fields' order;
    send them sorted by key so concurrent writers lock shared rows in the same order.
    """
    if not rows:
        return 0
    meta = model._meta
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    model_fields = [meta.get_field(name) for name in (*key_fields, *counter_fields)]
    columns = ", ".join(qn(f.column) for f in model_fields)
    conflict = ", ".join(qn(meta.get_field(name).column) for name in key_fields)
    counters = [qn(meta.get_field(name).column) for name in counter_fields]
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in counters)
    written = 0
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        values = [
            [row[i] for row in part]
            if connection.vendor == "postgresql" and isinstance(f, _PLAIN_ON_POSTGRES)
            else [f.get_db_prep_save(row[i], connection) for row in part]
            for i, f in enumerate(model_fields)
        ]
        source, params = _values_source(model_fields, values)
        sql = (
            f"{source} INSERT INTO {table} ({columns}) SELECT * FROM v WHERE true "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
        )
        written += _execute(sql, params)[0]
    return written
