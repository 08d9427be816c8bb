"""Reading an action's JSON parameters with Tencent's error codes.

A wrong type is `InvalidParameter`, a wrong value `InvalidParameterValue`, an absent
required field `MissingParameter`; actions pass a more specific code where Tencent has one.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sesconsole.lib.text import storable
from sesconsole.lib.timezones import MAX_DAY, MIN_DAY

MAX_LIMIT = 100  # every list action except GetAbuseReport
MAX_INT = 2**31 - 1  # Tencent's Integer parameters are 32-bit; the database's offsets 64-bit

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TencentError(Exception):
    """An error answered in Tencent's envelope: `{"Error": {"Code", "Message"}}`."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def check_text(name: str, value: str) -> None:
    """Text the database can store (`sesconsole.lib.text.storable`)."""
    if not storable(value):
        raise TencentError(
            "InvalidParameterValue",
            f"The parameter {name} holds a NUL character or a lone surrogate.",
        )


def _check_day(name: str, day: date, code: str) -> None:
    """The days every page and API accept (a day's bounds in any zone stay representable)."""
    if not MIN_DAY <= day <= MAX_DAY:
        raise TencentError(code, f"The parameter {name} must lie between {MIN_DAY} and {MAX_DAY}.")


class Params:
    def __init__(self, data: dict[str, Any]):
        self.data = data

    def _get(self, name: str, required: bool, missing_code: str = "MissingParameter") -> Any:
        value = self.data.get(name)
        if value is None and required:
            raise TencentError(missing_code, f"The parameter {name} is required.")
        return value

    def str(
        self, name: str, *, required: bool = False, missing_code: str = "MissingParameter"
    ) -> str | None:
        value = self._get(name, required, missing_code)
        if value is None:
            return None
        if not isinstance(value, str):
            raise TencentError("InvalidParameter", f"The parameter {name} must be a string.")
        check_text(name, value)
        if required and not value.strip():
            raise TencentError(missing_code, f"The parameter {name} must not be empty.")
        return value.strip()

    def int(self, name: str, *, required: bool = False, default: int | None = None) -> int | None:
        value = self._get(name, required)
        if value is None:
            return default
        # The SDK's int fields arrive as JSON numbers; the CLI may send numeric strings.
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TencentError("InvalidParameter", f"The parameter {name} must be an integer.")
        if value < 0:
            raise TencentError(
                "InvalidParameterValue", f"The parameter {name} must not be negative."
            )
        if value > MAX_INT:
            raise TencentError(
                "InvalidParameterValue", f"The parameter {name} must be at most {MAX_INT}."
            )
        return value

    def limit(
        self,
        name: str = "Limit",
        *,
        required: bool = True,
        default: int | None = None,
        maximum: int = MAX_LIMIT,
    ) -> int:
        value = self.int(name, required=required, default=default)
        assert value is not None
        if value > maximum:
            raise TencentError("FailedOperation.InvalidLimit", f"{name} must be at most {maximum}.")
        return value

    def date(
        self, name: str, *, required: bool = False, code: str = "InvalidParameterValue.WrongDate"
    ) -> date | None:
        value = self.str(name, required=required)
        if not value:
            return None
        try:
            if not _DATE.match(value):
                raise ValueError
            day = date.fromisoformat(value)
        except ValueError:
            raise TencentError(code, f"The parameter {name} must be a date YYYY-MM-DD.") from None
        _check_day(name, day, code)
        return day

    def date_or_datetime(self, name: str, *, required: bool, code: str) -> tuple[datetime, bool]:
        """A `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` value (naive), and whether it was a date."""
        value = self.str(name, required=required)
        try:
            if value and _DATE.match(value):
                day = date.fromisoformat(value)
                moment, is_date = datetime(day.year, day.month, day.day), True  # noqa: DTZ001
            else:
                moment = datetime.strptime(value or "", "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007
                is_date = False
        except ValueError:
            raise TencentError(
                code, f"The parameter {name} must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS."
            ) from None
        _check_day(name, moment.date(), code)
        return moment, is_date

    def str_list(
        self, name: str, *, required: bool = False, missing_code: str = "MissingParameter"
    ) -> list[str]:
        value = self._get(name, required, missing_code)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise TencentError(
                "InvalidParameter", f"The parameter {name} must be a list of strings."
            )
        if required and not value:
            raise TencentError(missing_code, f"The parameter {name} must not be empty.")
        for item in value:
            check_text(name, item)
        return value
