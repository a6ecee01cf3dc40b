# The audit trail moves from one unkeyed SHA-256 chain with a single locked head row to one HMAC-keyed chain per
# application (or object, or the site), anchored by AuditAnchor rows. Existing rows are checked against the old
# unkeyed chain first and then re-sealed under the current AUDIT_KEYS key: a broken old chain stops the migration.

import hashlib
import json

from django.db import migrations, models

GENESIS = "0" * 64


def _legacy_digest(prev_hash, event):
    fields = {
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "action": event.action,
        "application": event.application_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "from": event.from_state,
        "to": event.to_state,
        "reason": event.reason,
        "payload": event.payload,
    }
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _chain(event):
    if event.application_id is not None:
        return f"application:{event.application_id}"
    if event.object_type and event.object_id:
        return f"{event.object_type}:{event.object_id}"
    return "site"


def reseal(apps, schema_editor):
    from certification.domain.audit import current_key, hashed_fields, seal

    AuditEvent = apps.get_model("certification", "AuditEvent")
    AuditChainHead = apps.get_model("certification", "AuditChainHead")
    events = list(AuditEvent.objects.order_by("id"))
    prev = GENESIS
    for event in events:
        if event.prev_hash != prev or event.hash != _legacy_digest(prev, event):
            raise RuntimeError(
                f"The audit chain is broken at event {event.pk}; investigate before migrating (nothing was changed)."
            )
        prev = event.hash
    AuditChainHead.objects.all().delete()
    key_id, key = current_key()
    heads = {}
    for event in events:
        event.chain = _chain(event)
        length, last_hash = heads.get(event.chain, (0, GENESIS))
        event.seq, event.key_id, event.prev_hash = length + 1, key_id, last_hash
        event.hash = seal(event.prev_hash, hashed_fields(event), key)
        heads[event.chain] = (event.seq, event.hash)
    AuditEvent.objects.bulk_update(events, ["chain", "seq", "key_id", "prev_hash", "hash"], batch_size=1000)
    AuditChainHead.objects.bulk_create(
        AuditChainHead(chain=chain, length=length, last_hash=last_hash) for chain, (length, last_hash) in heads.items()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("certification", "0003_score_sheet_saved_by_the_evaluator"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.CharField(default="site", max_length=120, verbose_name="chain"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.PositiveBigIntegerField(default=0, verbose_name="position in chain"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(default="", max_length=16, verbose_name="key id"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="chain",
            field=models.CharField(default="site", max_length=120),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="length",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="auditchainhead",
            name="anchored_length",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="AuditAnchor",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.PositiveBigIntegerField(unique=True, verbose_name="anchor number")),
                ("at", models.DateTimeField(verbose_name="time")),
                ("events", models.PositiveBigIntegerField(verbose_name="audit rows")),
                ("heads", models.JSONField(default=dict, verbose_name="chain heads")),
                ("key_id", models.CharField(max_length=16, verbose_name="key id")),
                ("prev_hash", models.CharField(max_length=64, verbose_name="previous hash")),
                ("hash", models.CharField(max_length=64, unique=True, verbose_name="hash")),
            ],
            options={
                "verbose_name": "audit anchor",
                "verbose_name_plural": "audit anchors",
                "ordering": ["seq"],
            },
        ),
        migrations.RunPython(reseal, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditchainhead",
            name="chain",
            field=models.CharField(max_length=120, unique=True),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=("chain", "seq"), name="audit_event_unique_chain_seq"),
        ),
    ]
