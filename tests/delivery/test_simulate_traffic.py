import pytest
from django.core.management import call_command
from django.db.models import Count

from delivery.models import DeliveryEvent, Message

pytestmark = pytest.mark.django_db


def test_it_generates_realistic_traffic(account, other_account):
    call_command("simulate_traffic", days=3, per_day=700, seed=1, verbosity=0)

    messages = Message.objects.all()
    total = messages.count()
    assert total == 2 * 3 * 700
    by_status = dict(messages.values_list("status").annotate(n=Count("id")))
    requested = total - by_status.get("rejected", 0)
    assert 0.93 <= by_status["delivered"] / requested <= 0.97
    assert 0 < by_status.get("rejected", 0) / total < 0.03
    classes = set(messages.filter(status="bounced").values_list("bounce_class", flat=True))
    assert {"invalid_address", "mailbox_full", "blocked"} <= classes
    types = set(DeliveryEvent.objects.values_list("type", flat=True))
    assert types >= {"request", "delivered", "deferred", "bounced", "opened", "clicked", "rejected"}
    assert len(set(messages.values_list("recipient_domain", flat=True))) >= 6
    assert set(messages.values_list("account__name", flat=True)) == {"acme", "globex"}
    assert not messages.filter(requested_at=None).exists()
    # Machine opens (privacy proxies) and scanner clicks are part of real traffic.
    opens = DeliveryEvent.objects.filter(type="opened")
    assert 0 < opens.filter(is_machine=True).count() < opens.count()
    assert DeliveryEvent.objects.filter(type="clicked", is_machine=True).exists()
    assert (
        messages.filter(first_human_opened_at__isnull=False).count()
        < messages.filter(first_opened_at__isnull=False).count()
    )
