"""Migration 0006 (several campaigns in one database) on a database the previous release made:
the schema at 0005_marked_handled with messages, attachments, submissions and outbox rows in it,
opened by the bot (upgraded to head) with every row intact and every row the 2020 campaign's;
then a second campaign's submissions live beside the first's without touching them. On the
backend INTAKE_TEST_DB names (db_url)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alembic import command
from sqlalchemy import MetaData, create_engine, inspect, select, text

from bot.store import queries, submissions
from bot.store.db import SCHEMA_HEAD, Database, alembic_config, schema_revision
from bot.store.models import DEFAULT_CAMPAIGN, AttachmentRecord, Message, OutboxMail, Submission
from tests.store.test_migrations import schema_diff

PREVIOUS_RELEASE = "0005_marked_handled"
T0 = datetime(2020, 6, 8, 2, 0)  # naive UTC, as the columns hold it
UNIT = "岳西县总工会"


def _previous_release_database(url: str) -> None:
    """What the previous release left: its schema (Alembic to 0005) and a unit's mail — a
    liaison form, then two versions of its 附件2 (the second current), the acknowledgements
    and a reminder in the outbox."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), PREVIOUS_RELEASE)
            assert "campaign" not in {c["name"] for c in inspect(conn).get_columns("submissions")}
            meta = MetaData()
            meta.reflect(conn)
            messages, attachments = meta.tables["messages"], meta.tables["attachments"]
            subs, outbox = meta.tables["submissions"], meta.tables["outbox"]
            for n, (subject, kind, values) in enumerate((
                    ("联络员推荐表", "liaison_form", {"name": "王芳", "email": "wf@example.test"}),
                    ("附件2 第一版", "progress_table", {"meeting.held": 1}),
                    ("附件2 第二版", "progress_table", {"meeting.held": 2})), 1):
                # no ids given: PostgreSQL's sequences count as the release's own inserts did
                at = T0 + timedelta(days=n)
                pk = conn.execute(messages.insert().values(
                    message_id=f"<m{n}@example.test>", sha256=f"{n:064d}", size=100 + n, received_at=at,
                    from_addr="yxzgh@example.test", from_name="岳西县总工会", subject=subject, unit=UNIT,
                    unit_source="address", outcome="accepted", reason="", kinds=[kind], flags=[],
                    acknowledged=True, created_at=at, processed_at=at, sender_check="SPF=pass")).inserted_primary_key[0]
                assert pk == n
                att = conn.execute(attachments.insert().values(
                    message_pk=pk, position=0, filename=f"{subject}.docx", content_type="application/x",
                    origin=[], sha256=f"{n:064x}", size=10, kind=kind, status="parsed", values=values,
                    errors=[], warnings=[], reason="")).inserted_primary_key[0]
                conn.execute(subs.insert().values(
                    unit=UNIT, item=kind, kind=kind, message_pk=pk, attachment_pk=att, received_at=at,
                    content_sha256=f"{n:064x}", values=values, text="", evidence_only=False,
                    current=n != 2, flags=[], created_at=at))
                conn.execute(outbox.insert().values(
                    key=f"ack:<m{n}@example.test>", kind="ack", to_addr="yxzgh@example.test",
                    recipients=["yxzgh@example.test"], subject=f"回复：{subject}", raw=b"raw ack", message_pk=pk,
                    status="sent", attempts=1, next_attempt_at=at, last_error="", created_at=at, sent_at=at))
            conn.execute(outbox.insert().values(
                key=f"remind:{UNIT}:summary:2020-06-26T09:00:00+08:00", kind="remind", to_addr="yxzgh@example.test",
                recipients=["yxzgh@example.test"], subject="催报", raw=b"raw reminder", message_pk=None,
                status="queued", attempts=0, next_attempt_at=T0, last_error="", created_at=T0, sent_at=None))
    finally:
        engine.dispose()


def test_a_database_of_the_previous_release_keeps_its_data_as_the_2020_campaigns(db_url):
    _previous_release_database(db_url)
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            assert schema_revision(conn) == SCHEMA_HEAD == "0006_campaigns"
        assert schema_diff(db.engine) == []
        with db.session() as s:
            msgs = list(s.scalars(select(Message).order_by(Message.id)))
            assert [(m.id, m.subject, m.unit, m.outcome, m.kinds, m.sender_check, m.acknowledged) for m in msgs] == [
                (1, "联络员推荐表", UNIT, "accepted", ["liaison_form"], "SPF=pass", True),
                (2, "附件2 第一版", UNIT, "accepted", ["progress_table"], "SPF=pass", True),
                (3, "附件2 第二版", UNIT, "accepted", ["progress_table"], "SPF=pass", True)]
            assert msgs[0].received_at == datetime(2020, 6, 9, 2, 0, tzinfo=timezone.utc)
            assert {m.campaign for m in msgs} == {DEFAULT_CAMPAIGN}
            assert [a.values for a in s.scalars(select(AttachmentRecord).order_by(AttachmentRecord.id))] == [
                {"name": "王芳", "email": "wf@example.test"}, {"meeting.held": 1}, {"meeting.held": 2}]
            subs = list(s.scalars(select(Submission).order_by(Submission.id)))
            assert [(x.campaign, x.unit, x.item, x.current, x.values) for x in subs] == [
                (DEFAULT_CAMPAIGN, UNIT, "liaison_form", True, {"name": "王芳", "email": "wf@example.test"}),
                (DEFAULT_CAMPAIGN, UNIT, "progress_table", False, {"meeting.held": 1}),
                (DEFAULT_CAMPAIGN, UNIT, "progress_table", True, {"meeting.held": 2})]
            out = list(s.scalars(select(OutboxMail).order_by(OutboxMail.id)))
            assert [(o.key, o.status, o.raw) for o in out] == [
                ("ack:<m1@example.test>", "sent", b"raw ack"), ("ack:<m2@example.test>", "sent", b"raw ack"),
                ("ack:<m3@example.test>", "sent", b"raw ack"),
                (f"remind:{UNIT}:summary:2020-06-26T09:00:00+08:00", "queued", b"raw reminder")]
            # the read side of the 2020 campaign sees what it saw before
            assert len(queries.deliveries(s, campaign=DEFAULT_CAMPAIGN)) == 3
            assert [m.id for m in queries.messages(s, campaign=DEFAULT_CAMPAIGN)] == [1, 2, 3]
        indexes = {ix["name"]: ix["column_names"] for ix in inspect(db.engine).get_indexes("submissions")}
        assert indexes["ix_submission_campaign_unit_item"] == ["campaign", "unit", "item"]
        assert "ix_submission_unit_item" not in indexes
    finally:
        db.dispose()


def test_a_second_campaign_s_items_are_versions_of_their_own(db_url):
    """After the migration, 2021's 附件2 of the same unit is no new version of 2020's: each
    campaign keeps its current one, and each campaign's queries see only its own."""
    _previous_release_database(db_url)
    db = Database(db_url)
    at = datetime(2021, 6, 9, 2, 0, tzinfo=timezone.utc)
    try:
        with db.session() as s:
            msg = Message(message_id="<m2021@example.test>", sha256="f" * 64, size=1, received_at=at,
                          unit=UNIT, outcome="accepted", campaign="2021-anqing-safety-month")
            s.add(msg)
            s.flush()
            # the same values as 2020's current version: a duplicate only within one campaign
            assert submissions.record(s, unit=UNIT, item="progress_table", kind="progress_table", message_pk=msg.id,
                                      attachment_pk=None, received_at=at, values={"meeting.held": 2}, text="",
                                      campaign="2021-anqing-safety-month") == submissions.NEW
            assert submissions.record(s, unit=UNIT, item="progress_table", kind="progress_table", message_pk=msg.id,
                                      attachment_pk=None, received_at=at, values={"meeting.held": 2}, text="",
                                      campaign="2021-anqing-safety-month") == submissions.DUPLICATE
        with db.session() as s:
            current = {(x.campaign, x.values["meeting.held"]) for x in s.scalars(select(Submission).where(
                Submission.item == "progress_table", Submission.current.is_(True)))}
            assert current == {(DEFAULT_CAMPAIGN, 2), ("2021-anqing-safety-month", 2)}
            assert [r.received_at for r in queries.deliveries(s, campaign="2021-anqing-safety-month")] == [at]
            assert len(queries.deliveries(s, campaign=DEFAULT_CAMPAIGN)) == 3
            assert [m.id for m in queries.messages(s, campaign="2021-anqing-safety-month")] == [msg.id]
            assert submissions.received_items(s, UNIT, "2021-anqing-safety-month") == {"progress_table": at}
            assert set(submissions.received_items(s, UNIT, DEFAULT_CAMPAIGN)) == {"liaison_form", "progress_table"}
            # reading a 2020 mail again restores 2020's versions and leaves 2021's alone
            submissions.forget_message(s, 3)
        with db.session() as s:
            current = {(x.campaign, x.values["meeting.held"]) for x in s.scalars(select(Submission).where(
                Submission.item == "progress_table", Submission.current.is_(True)))}
            assert current == {(DEFAULT_CAMPAIGN, 1), ("2021-anqing-safety-month", 2)}
    finally:
        db.dispose()


def test_downgrade_to_the_previous_release_keeps_its_rows(db_url):
    _previous_release_database(db_url)
    Database(db_url).dispose()
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), PREVIOUS_RELEASE)
        with engine.connect() as conn:
            assert schema_revision(conn) == PREVIOUS_RELEASE
            assert "campaign" not in {c["name"] for c in inspect(conn).get_columns("messages")}
            assert conn.scalar(text("SELECT count(*) FROM submissions")) == 3
            assert conn.scalar(text("SELECT count(*) FROM outbox")) == 4
            indexes = {ix["name"] for ix in inspect(conn).get_indexes("submissions")}
            assert "ix_submission_unit_item" in indexes
    finally:
        engine.dispose()
