# Ingestion claims the batch's (account, event id) keys itself, in one set-based
# `INSERT … ON CONFLICT DO NOTHING RETURNING` (delivery.ingest), and inserts only the
# events whose key it won: the per-row PL/pgSQL trigger cost more than the rest of the
# insert. The trigger stays as the guard for any other writer, skipped only while the
# ingestion statement that has already claimed its keys runs (the setting
# `delivery.event_keys` = 'claimed', local to that transaction).

from django.db import migrations

from sesconsole.lib.migrations import PostgresOnlySQL


GATED = """
DROP TRIGGER delivery_event_claim_key ON delivery_deliveryevent;
CREATE TRIGGER delivery_event_claim_key BEFORE INSERT ON delivery_deliveryevent
    FOR EACH ROW
    WHEN (current_setting('delivery.event_keys', true) IS DISTINCT FROM 'claimed')
    EXECUTE FUNCTION delivery_event_claim_key();
"""

UNGATED = """
DROP TRIGGER delivery_event_claim_key ON delivery_deliveryevent;
CREATE TRIGGER delivery_event_claim_key BEFORE INSERT ON delivery_deliveryevent
    FOR EACH ROW EXECUTE FUNCTION delivery_event_claim_key();
"""


class Migration(migrations.Migration):
    dependencies = [("delivery", "0010_message_search_indexes")]

    operations = [PostgresOnlySQL(GATED, UNGATED)]
