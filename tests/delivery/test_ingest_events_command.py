import json

import pytest
from django.core.management import call_command

from delivery.models import DeliveryEvent, Message
from tests.events import make_event

pytestmark = pytest.mark.django_db


def test_it_ingests_json_lines_and_reports_bad_lines(account, tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    lines = [json.dumps(make_event("request", f"m{i}")) for i in range(5)]
    lines.insert(2, "{not json")
    lines.append(json.dumps(make_event("bounced", "m1", smtp={"code": 999})))
    lines.append("")
    path.write_text("\n".join(lines))

    call_command("ingest_events", str(path), account="acme", batch_size=2)

    out, err = capsys.readouterr()
    assert "accepted 5, duplicates 0, errors 2" in out
    assert "line 3: invalid_json" in err
    assert "line 7: invalid_field" in err
    assert Message.objects.count() == 5


def test_running_it_twice_counts_once(account, tmp_path, capsys):
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(make_event("request", "m1")) + "\n")
    call_command("ingest_events", str(path), account="acme")
    call_command("ingest_events", str(path), account="acme")
    assert "accepted 0, duplicates 1, errors 0" in capsys.readouterr().out
    assert DeliveryEvent.objects.count() == 1
