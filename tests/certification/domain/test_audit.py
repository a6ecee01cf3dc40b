import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import load_workbook

from certification.domain import audit
from certification.excel.summary_export import write_export
from certification.models import AuditAnchor, AuditChainHead, AuditEvent, ExportJob, Notification
from certification.tasks import task_verify_and_anchor_audit
from tests.certification.tampering import EVENTS, as_database_owner, cut_anchors, cut_tail, rechain
from tests.factories.standards import administrator
from tests.factories.work import ApplicationFactory

OLD_KEY = b"old-audit-key-for-tests-32-bytes"
NEW_KEY = b"new-audit-key-for-tests-32-bytes"


@pytest.fixture(autouse=True)
def keys(settings):
    settings.AUDIT_KEYS = {"k1": OLD_KEY}
    return settings


@pytest.fixture
def three_events(user):
    return [audit.record(f"test.step{n}", actor=user, from_state=f"s{n}", to_state=f"s{n + 1}") for n in range(3)]


def anchor_with_file(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return audit.anchor()


def messages(problems):
    with translation.override("en"):
        return [str(problem) for problem in problems]


def test_record_links_each_event_to_the_previous_hash(three_events):
    first, second, third = three_events

    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_record_keeps_one_chain_per_application_with_its_own_head(db):
    first, second = ApplicationFactory(), ApplicationFactory()

    a1 = audit.record("test.a", application=first)
    b1 = audit.record("test.b", application=second)
    a2 = audit.record("test.a", application=first)

    assert [(e.chain, e.seq, e.key_id) for e in (a1, b1, a2)] == [
        (f"application:{first.pk}", 1, "k1"),
        (f"application:{second.pk}", 1, "k1"),
        (f"application:{first.pk}", 2, "k1"),
    ]
    assert (a1.prev_hash, b1.prev_hash, a2.prev_hash) == (audit.GENESIS, audit.GENESIS, a1.hash)
    assert dict(AuditChainHead.objects.values_list("chain", "length")) == {a1.chain: 2, b1.chain: 1}
    assert audit.verify() == []


def test_verify_chain_intact_returns_none(three_events):
    assert audit.verify_chain() is None


def test_verify_chain_edited_row_is_found(three_events):
    # Tampering bypasses the model (which refuses updates) the way someone with database access would.
    with as_database_owner() as cursor:
        cursor.execute(f"UPDATE {EVENTS} SET reason = %s WHERE id = %s", ["篡改", three_events[1].pk])

    assert audit.verify_chain() == three_events[1]


def test_verify_chain_deleted_row_is_found(three_events):
    with as_database_owner() as cursor:
        cursor.execute(f"DELETE FROM {EVENTS} WHERE id = %s", [three_events[1].pk])

    assert audit.verify_chain() == three_events[2]


def test_verify_chain_deleted_last_row_is_found(three_events):
    with as_database_owner() as cursor:
        cursor.execute(f"DELETE FROM {EVENTS} WHERE id = %s", [three_events[2].pk])

    assert audit.verify_chain() == three_events[1]


def test_audit_event_update_and_delete_refused(three_events):
    event = three_events[0]
    event.reason = "changed"

    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


def _edit_second(event):
    if event.seq == 2:
        event.reason = "篡改"


def test_verify_edit_with_every_later_hash_recomputed_without_the_key_is_found(three_events):
    rechain("site", key=b"a guess at the key, not the key", edit=_edit_second)

    problems = audit.verify()

    assert [(p.chain, p.event) for p in problems] == [("site", three_events[0])]
    assert messages(problems) == ["In site-wide events, row 1 was changed after it was written."]


def test_verify_unkeyed_sha256_rechain_is_found(three_events):
    # The old chain's unkeyed SHA-256 is exactly what a database writer could recompute.
    rechain("site", key=b"", edit=_edit_second)

    assert audit.verify_chain() == three_events[0]


def test_verify_edit_recomputed_with_the_key_passes(three_events):
    # The limit of the design, and proof that `rechain` rewrites the chain correctly: only the key holder can do it.
    rechain("site", key=OLD_KEY, edit=_edit_second)

    assert audit.verify() == []
    assert AuditEvent.objects.get(pk=three_events[1].pk).reason == "篡改"


def test_verify_tail_cut_with_head_rewritten_is_found_by_the_anchor(three_events, django_capture_on_commit_callbacks):
    anchor_with_file(django_capture_on_commit_callbacks)
    cut_tail("site", keep=1)

    problems = audit.verify()

    assert messages(problems) == [
        "The database holds 1 audit rows, fewer than the 3 the anchor file recorded.",
        "site-wide events ends at row 1, but anchor records show 3 rows: rows were removed.",
    ]
    assert problems[1].event == three_events[0]


def test_verify_tail_and_anchors_cut_is_found_by_the_anchor_file(user, django_capture_on_commit_callbacks):
    audit.record("test.before", actor=user)
    anchor_with_file(django_capture_on_commit_callbacks)
    audit.record("test.after", actor=user)
    audit.record("test.after", actor=user)
    anchor_with_file(django_capture_on_commit_callbacks)
    # Everything after the first anchor goes, anchors and heads made consistent: only the file outside remembers.
    cut_tail("site", keep=1)
    cut_anchors(keep=1)

    assert messages(audit.verify()) == [
        "Anchor 2 recorded in the anchor file is missing from the database.",
        "The database holds 1 audit rows, fewer than the 3 the anchor file recorded.",
    ]


def test_verify_whole_chain_deleted_is_found_by_the_anchor(db, django_capture_on_commit_callbacks):
    application = ApplicationFactory()
    audit.record("test.a", application=application)
    audit.record("test.a", application=application)
    anchor_with_file(django_capture_on_commit_callbacks)
    with as_database_owner() as cursor:
        cursor.execute(f"DELETE FROM {EVENTS} WHERE application_id = %s", [application.pk])
        cursor.execute("DELETE FROM certification_auditchainhead WHERE chain = %s", [f"application:{application.pk}"])

    assert messages(audit.verify()) == [
        "The database holds 0 audit rows, fewer than the 2 the anchor file recorded.",
        f"application no. {application.pk} ends at row 0, but anchor records show 2 rows: rows were removed.",
    ]


def test_verify_after_key_rotation_checks_old_and_new_rows_with_their_keys(user, keys):
    old = audit.record("test.old", actor=user)
    keys.AUDIT_KEYS = {"k2": NEW_KEY, "k1": OLD_KEY}

    new = audit.record("test.new", actor=user)
    anchor = audit.anchor()

    assert (old.key_id, new.key_id, anchor.key_id) == ("k1", "k2", "k2")
    assert new.prev_hash == old.hash
    assert audit.verify() == []


def test_verify_row_sealed_with_an_unknown_key_id_is_reported(user, keys):
    audit.record("test.old", actor=user)
    keys.AUDIT_KEYS = {"k2": NEW_KEY}

    problems = audit.verify()

    assert messages(problems) == [
        "In site-wide events, row 1 is sealed with key k1, which is not configured in AUDIT_KEYS."
    ]


def test_anchor_seals_the_grown_chains_and_writes_the_file(three_events, django_capture_on_commit_callbacks):
    first = anchor_with_file(django_capture_on_commit_callbacks)
    second = anchor_with_file(django_capture_on_commit_callbacks)
    audit.record("test.more")
    third = anchor_with_file(django_capture_on_commit_callbacks)

    assert (first.seq, first.events, first.heads) == (1, 3, {"site": [3, three_events[2].hash]})
    assert (second.seq, second.events, second.heads, second.prev_hash) == (2, 3, {}, first.hash)
    assert (third.events, list(third.heads)) == (4, ["site"])
    assert audit.latest_anchor_file() == {
        "anchor": 3,
        "hash": third.hash,
        "events": 4,
        "key_id": "k1",
        "at": third.at.isoformat(),
    }
    assert audit.verify() == []


def test_anchor_refused_while_the_database_is_behind_the_anchor_file(three_events, django_capture_on_commit_callbacks):
    anchor_with_file(django_capture_on_commit_callbacks)
    cut_tail("site", keep=2)

    with translation.override("en"), pytest.raises(audit.AuditTampered, match="fewer than the 3 the anchor file"):
        audit.anchor()
    assert AuditAnchor.objects.count() == 1


def test_verify_edited_anchor_is_found(three_events):
    anchor = audit.anchor()
    with as_database_owner() as cursor:
        cursor.execute("UPDATE certification_auditanchor SET events = 1 WHERE id = %s", [anchor.pk])

    assert messages(audit.verify()) == ["In audit anchors, row 1 was changed after it was written."]


def test_verify_audit_command_intact_says_so(three_events, capsys):
    audit.anchor()

    call_command("verify_audit")

    assert capsys.readouterr().out.strip() == (
        "审计记录完整：3 条记录，1 个锚点。 / The audit trail is intact: 3 rows, 1 anchors."
    )


def test_verify_audit_command_tampered_fails_with_the_findings(three_events, capsys):
    with as_database_owner() as cursor:
        cursor.execute(f"UPDATE {EVENTS} SET reason = %s WHERE id = %s", ["篡改", three_events[1].pk])

    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")

    assert str(failure.value) == (
        "审计记录校验未通过：发现 1 个问题。 / The audit trail failed verification: 1 problem(s) found."
    )
    assert capsys.readouterr().err.strip() == (
        "全站事件中，第 2 条记录在写入后被改动。 / In site-wide events, row 2 was changed after it was written."
    )


def test_verify_audit_command_with_anchor_writes_an_anchor_file(three_events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("verify_audit", "--anchor")

    assert AuditAnchor.objects.get().events == 3
    assert audit.latest_anchor_file()["anchor"] == 1


def test_verify_and_anchor_task_intact_anchors_and_alerts_nobody(three_events):
    administrator()

    assert task_verify_and_anchor_audit.delay().get() == 0

    assert AuditAnchor.objects.count() == 1
    assert Notification.objects.count() == 0


def test_verify_and_anchor_task_tampered_alerts_the_administrators_and_does_not_anchor(three_events):
    admin = administrator()
    with as_database_owner() as cursor:
        cursor.execute(f"DELETE FROM {EVENTS} WHERE id = %s", [three_events[1].pk])

    assert task_verify_and_anchor_audit.delay().get() == 1

    assert AuditAnchor.objects.count() == 0
    notification = Notification.objects.get()
    assert (notification.recipient, notification.subject) == (admin, "审计记录校验未通过")
    assert notification.body == (
        "审计记录校验发现以下问题。在重新信任这些记录之前，请先调查。\n全站事件中，缺少第 2 条记录（下一条是第 3 条）。"
    )


def test_verify_and_anchor_is_scheduled_daily_by_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["verify-and-anchor-audit"]

    assert (entry["task"], entry["schedule"]) == ("certification.verify_and_anchor_audit", 86400.0)
    assert task_verify_and_anchor_audit.name == entry["task"]


def test_export_carries_a_fresh_anchor_in_its_properties(three_events, tmp_path, user):
    application = ApplicationFactory()
    job = ExportJob(kind=ExportJob.Kind.APPLICATION, application=application, created_by=user)
    write_export(job, tmp_path / "export.xlsx")

    properties = {p.name: p.value for p in load_workbook(tmp_path / "export.xlsx").custom_doc_props.props}
    anchor = AuditAnchor.objects.get()
    assert json.loads(properties["audit_anchor"]) == audit.anchor_summary(anchor)
    assert anchor.events == 3
