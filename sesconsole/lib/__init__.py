"""Shared helpers: CSV streaming, set-based SQL, time zones and service errors.

Every app imports these; they import no app (checked by the import contracts in
pyproject.toml), so they can be read and tested on their own.
"""
