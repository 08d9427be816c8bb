"""Serializer fields that take only the JSON type their schema states (DRF's own also take
numbers for text and 0/1 for booleans, which the schema does not admit)."""

from __future__ import annotations

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """`true`/`false`; form encodings' strings (`"true"`, `"on"`, …) still count."""

    def to_internal_value(self, data):
        if not isinstance(data, bool | str):
            self.fail("invalid", input=data)
        return super().to_internal_value(data)
