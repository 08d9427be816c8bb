"""The event contract, the rollup columns and the statistics counters agree."""

from __future__ import annotations

from django.db import models

from delivery.contract import EVENTS, BounceClass, EventType, declared_counters
from delivery.models import DeliveryEvent, Message
from stats.models import COUNTERS, Rollup


def test_every_event_type_has_one_rule():
    assert set(EVENTS) == set(EventType.values)


def test_the_counters_are_the_ones_the_contract_feeds():
    assert len(COUNTERS) == len(set(COUNTERS))
    assert set(COUNTERS) == declared_counters()


def test_every_counter_is_a_rollup_column():
    columns = {
        f.name
        for f in Rollup._meta.get_fields()
        if isinstance(f, models.IntegerField) and f.name not in ("id", "size")
    }
    assert columns == set(COUNTERS)


def test_every_message_field_a_rule_names_exists():
    fields = {f.name for f in Message._meta.get_fields()}
    for rule in EVENTS.values():
        for name in (rule.first_field, rule.count_field, rule.first_human_field):
            assert name is None or name in fields, name
        assert rule.status is None or rule.status in Message.Status.values


def test_the_event_table_takes_every_type_and_class():
    assert {v for v, _ in DeliveryEvent._meta.get_field("type").choices} == set(EventType.values)
    assert {v for v, _ in DeliveryEvent._meta.get_field("bounce_class").choices} == set(
        BounceClass.values
    )
