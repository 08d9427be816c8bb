"""Moving Tc3Key from sesconsole to tencent keeps the table and every row in it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tencent.crypto import encrypt

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("sesconsole", "0002_tc3_credentials"), ("tencent", None)]
AFTER = [("sesconsole", "0003_tc3key_moves_to_tencent")]


def test_existing_tc3_keys_survive_the_move():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE[:1]).apps
    Account = apps.get_model("sesconsole", "Account")
    OldTc3Key = apps.get_model("sesconsole", "Tc3Key")
    account = Account.objects.create(name="old")
    old = OldTc3Key.objects.create(
        account=account,
        name="mailer",
        secret_id="AKIDkept",
        secret_key_encrypted=encrypt("the-secret"),
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Tc3Key = apps.get_model("tencent", "Tc3Key")
    assert Tc3Key._meta.db_table == "sesconsole_tc3key"
    assert "tc3key" not in apps.all_models["sesconsole"]
    kept = Tc3Key.objects.get(pk=old.pk)
    assert (kept.account_id, kept.name, kept.secret_id) == (account.pk, "mailer", "AKIDkept")

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    from tencent.models import Tc3Key as CurrentTc3Key

    assert CurrentTc3Key.objects.get(pk=old.pk).secret_key() == "the-secret"
