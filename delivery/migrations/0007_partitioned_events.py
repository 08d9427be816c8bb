# On PostgreSQL the event table becomes a table partitioned by day of `timestamp`
# (delivery.partitions creates the days ahead and drops expired ones). A partitioned table's
# unique constraints must contain the partition key, so exactly-once moves to
# delivery_deliveryeventkey: a trigger claims (account, event_id) there before each insert
# and skips the event when the key is taken. SQLite keeps the plain table.

import django.db.models.deletion
from django.db import migrations, models

from sesconsole.lib.migrations import PostgresOnlySQL


COLUMNS = (
    "id, event_id, type, timestamp, received_at, bounce_class, smtp_code, smtp_enhanced,"
    " response_text, reason, url, user_agent, ip, account_id, message_id, is_machine"
)

PARTITION = """
-- Retire the plain table's names (index names are global to the schema).
ALTER TABLE delivery_deliveryevent RENAME TO delivery_deliveryevent_plain;
ALTER SEQUENCE delivery_deliveryevent_id_seq RENAME TO delivery_deliveryevent_plain_id_seq;
ALTER TABLE delivery_deliveryevent_plain DROP CONSTRAINT delivery_deliveryevent_pkey;
ALTER TABLE delivery_deliveryevent_plain DROP CONSTRAINT event_unique_id_per_account;
DROP INDEX event_account_type_time, event_message_time,
    delivery_deliveryevent_account_id_319e3959, delivery_deliveryevent_message_id_a6e9fe6f;

CREATE SEQUENCE delivery_deliveryevent_id_seq;
CREATE TABLE delivery_deliveryevent (
    id bigint NOT NULL DEFAULT nextval('delivery_deliveryevent_id_seq'),
    event_id varchar(128) NOT NULL,
    type varchar(12) NOT NULL,
    "timestamp" timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    bounce_class varchar(20) NOT NULL,
    smtp_code smallint CONSTRAINT delivery_deliveryevent_smtp_code_check CHECK (smtp_code >= 0),
    smtp_enhanced varchar(16) NOT NULL,
    response_text text NOT NULL,
    reason varchar(64) NOT NULL,
    url text NOT NULL,
    user_agent varchar(512) NOT NULL,
    ip inet,
    account_id bigint NOT NULL REFERENCES sesconsole_account (id) DEFERRABLE INITIALLY DEFERRED,
    message_id bigint NOT NULL REFERENCES delivery_message (id) DEFERRABLE INITIALLY DEFERRED,
    is_machine boolean NOT NULL,
    PRIMARY KEY (id, "timestamp"),
    CONSTRAINT event_bounce_class_only_on_bounces
        CHECK (type = 'bounced' OR bounce_class = '')
) PARTITION BY RANGE ("timestamp");
ALTER SEQUENCE delivery_deliveryevent_id_seq OWNED BY delivery_deliveryevent.id;
-- The foreign keys' own indexes are left out: these two lead with their columns.
CREATE INDEX event_account_type_time ON delivery_deliveryevent (account_id, type, "timestamp");
CREATE INDEX event_message_time ON delivery_deliveryevent (message_id, "timestamp");
-- Rows outside every day created so far (far past, far future) land here until their day exists.
CREATE TABLE delivery_deliveryevent_default PARTITION OF delivery_deliveryevent DEFAULT;

CREATE INDEX delivery_deliveryeventkey_timestamp_brin
    ON delivery_deliveryeventkey USING brin ("timestamp");

CREATE FUNCTION delivery_event_claim_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_deliveryeventkey (account_id, event_id, "timestamp")
    VALUES (NEW.account_id, NEW.event_id, NEW."timestamp")
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    RETURN NULL;  -- a repeat of a stored event: skipped, so not returned to the caller
END
$$;
CREATE TRIGGER delivery_event_claim_key BEFORE INSERT ON delivery_deliveryevent
    FOR EACH ROW EXECUTE FUNCTION delivery_event_claim_key();

-- One partition per UTC day holding stored events, and the next 7 days.
DO $$
DECLARE
    day date;
    first_day date := COALESCE(
        (SELECT min("timestamp" AT TIME ZONE 'UTC')::date FROM delivery_deliveryevent_plain),
        (now() AT TIME ZONE 'UTC')::date);
BEGIN
    day := LEAST(first_day, (now() AT TIME ZONE 'UTC')::date);
    WHILE day <= (now() AT TIME ZONE 'UTC')::date + 7 LOOP
        IF day >= (now() AT TIME ZONE 'UTC')::date
            OR EXISTS (SELECT 1 FROM delivery_deliveryevent_plain
                       WHERE "timestamp" >= day::timestamp AT TIME ZONE 'UTC'
                         AND "timestamp" < (day + 1)::timestamp AT TIME ZONE 'UTC')
        THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF delivery_deliveryevent FOR VALUES FROM (%L) TO (%L)',
                'delivery_deliveryevent_p' || to_char(day, 'YYYYMMDD'),
                day::timestamp AT TIME ZONE 'UTC',
                (day + 1)::timestamp AT TIME ZONE 'UTC');
        END IF;
        day := day + 1;
    END LOOP;
END
$$;

INSERT INTO delivery_deliveryevent (COLUMNS)
    SELECT COLUMNS FROM delivery_deliveryevent_plain;
SELECT setval('delivery_deliveryevent_id_seq',
              COALESCE((SELECT max(id) FROM delivery_deliveryevent_plain), 0) + 1, false);
DROP TABLE delivery_deliveryevent_plain;
""".replace("COLUMNS", COLUMNS)

UNPARTITION = """
DROP TRIGGER delivery_event_claim_key ON delivery_deliveryevent;
DROP FUNCTION delivery_event_claim_key();
DROP INDEX delivery_deliveryeventkey_timestamp_brin;
ALTER TABLE delivery_deliveryevent RENAME TO delivery_deliveryevent_partitioned;
ALTER SEQUENCE delivery_deliveryevent_id_seq RENAME TO delivery_deliveryevent_partitioned_id_seq;
DROP INDEX event_account_type_time, event_message_time;
ALTER TABLE delivery_deliveryevent_partitioned DROP CONSTRAINT delivery_deliveryevent_pkey;

CREATE TABLE delivery_deliveryevent (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    event_id varchar(128) NOT NULL,
    type varchar(12) NOT NULL,
    "timestamp" timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    bounce_class varchar(20) NOT NULL,
    smtp_code smallint CONSTRAINT delivery_deliveryevent_smtp_code_check CHECK (smtp_code >= 0),
    smtp_enhanced varchar(16) NOT NULL,
    response_text text NOT NULL,
    reason varchar(64) NOT NULL,
    url text NOT NULL,
    user_agent varchar(512) NOT NULL,
    ip inet,
    account_id bigint NOT NULL
        CONSTRAINT delivery_deliveryeve_account_id_319e3959_fk_sesconsol
        REFERENCES sesconsole_account (id) DEFERRABLE INITIALLY DEFERRED,
    message_id bigint NOT NULL
        CONSTRAINT delivery_deliveryeve_message_id_a6e9fe6f_fk_delivery_
        REFERENCES delivery_message (id) DEFERRABLE INITIALLY DEFERRED,
    is_machine boolean NOT NULL,
    CONSTRAINT event_unique_id_per_account UNIQUE (account_id, event_id),
    CONSTRAINT event_bounce_class_only_on_bounces CHECK (type = 'bounced' OR bounce_class = '')
);
CREATE INDEX event_account_type_time ON delivery_deliveryevent (account_id, type, "timestamp");
CREATE INDEX event_message_time ON delivery_deliveryevent (message_id, "timestamp");
CREATE INDEX delivery_deliveryevent_account_id_319e3959 ON delivery_deliveryevent (account_id);
CREATE INDEX delivery_deliveryevent_message_id_a6e9fe6f ON delivery_deliveryevent (message_id);
INSERT INTO delivery_deliveryevent (COLUMNS)
    SELECT COLUMNS FROM delivery_deliveryevent_partitioned;
SELECT setval(pg_get_serial_sequence('delivery_deliveryevent', 'id'),
              COALESCE((SELECT max(id) FROM delivery_deliveryevent), 0) + 1, false);
DROP TABLE delivery_deliveryevent_partitioned;
""".replace("COLUMNS", COLUMNS)


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0006_pending_fold"),
        ("sesconsole", "0002_tc3_credentials"),
        # The block -> event foreign key loses its database constraint first.
        ("blocklist", "0004_block_event_without_db_constraint"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeliveryEventKey",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "account",
                        "event_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("event_id", models.CharField(max_length=128)),
                (
                    "timestamp",
                    models.DateTimeField(help_text="The event's timestamp: keys expire with it."),
                ),
                (
                    "account",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="sesconsole.account",
                    ),
                ),
            ],
        ),
        PostgresOnlySQL(PARTITION, UNPARTITION),
    ]
