"""Reading an action's JSON parameters with Tencent's error codes.

A wrong type is `InvalidParameter`, a wrong value `InvalidParameterValue`, an absent
required field `MissingParameter`; actions pass a more specific code where Tencent has one.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

MAX_LIMIT = 100  # every list action except GetAbuseReport

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class TencentError(Exception):
    """An error answered in Tencent's envelope: `{"Error": {"Code", "Message"}}`."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


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
            return date.fromisoformat(value)
        except ValueError:
            raise TencentError(code, f"The parameter {name} must be a date YYYY-MM-DD.") from None

    def date_or_datetime(self, name: str, *, required: bool, code: str) -> tuple[datetime, bool]:
        """A `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` value (naive), and whether it was a date."""
        value = self.str(name, required=required)
        try:
            if value and _DATE.match(value):
                day = date.fromisoformat(value)
                return datetime(day.year, day.month, day.day), True  # noqa: DTZ001
            return datetime.strptime(value or "", "%Y-%m-%d %H:%M:%S"), False  # noqa: DTZ007
        except ValueError:
            raise TencentError(
                code, f"The parameter {name} must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS."
            ) from None

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
        return value
