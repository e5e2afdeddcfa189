"""The Alembic migrations against the models, on the backend INTAKE_TEST_DB names: a fresh
database, a database made before there were migrations, a database from a newer program, and
several processes opening one fresh database at once."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, select, text

from bot.store.db import PRE_MIGRATION_REVISION, SCHEMA_HEAD, Database, DatabaseError, alembic_config, schema_revision
from bot.store.models import Base, Message


def schema_diff(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)


def test_schema_head_names_the_newest_revision():
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [SCHEMA_HEAD]
    assert [r.revision for r in script.walk_revisions()][-1] == PRE_MIGRATION_REVISION


def test_upgrade_from_empty_reaches_the_models_schema(db_url):
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            assert schema_revision(conn) == SCHEMA_HEAD
        assert schema_diff(db.engine) == []
    finally:
        db.dispose()


def test_downgrade_to_empty_and_up_again(db_url):
    db = Database(db_url)
    try:
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        with db.engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        assert schema_diff(db.engine) == []
    finally:
        db.dispose()


def test_database_from_before_migrations_is_stamped_and_upgraded(db_url):
    # What create_all made is the initial revision without the alembic_version table.
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), PRE_MIGRATION_REVISION)
            conn.execute(text("DROP TABLE alembic_version"))
            conn.execute(text(
                "INSERT INTO messages (message_id, sha256, size, received_at, from_addr, from_name, subject,"
                " outcome, reason, kinds, flags, acknowledged, created_at) VALUES ('<old@example.test>', 'ab', 1,"
                " '2020-06-08 02:00:00', 'a@example.test', '', '旧邮件', 'accepted', '', '[]', '[]', false,"
                " '2020-06-08 02:00:00')"))
        assert "claim_token" not in {c["name"] for c in inspect(engine).get_columns("messages")}
    finally:
        engine.dispose()
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            assert schema_revision(conn) == SCHEMA_HEAD
        assert schema_diff(db.engine) == []
        with db.session() as s:
            old = s.scalar(select(Message))
            assert (old.message_id, old.subject, old.claim_token) == ("<old@example.test>", "旧邮件", None)
            assert old.received_at == datetime(2020, 6, 8, 2, 0, tzinfo=timezone.utc)
    finally:
        db.dispose()


def test_database_from_a_newer_program_is_refused_in_one_line(db_url):
    Database(db_url).dispose()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    with pytest.raises(DatabaseError, match="数据库结构版本 9999_from_the_future"):
        Database(db_url)


def test_processes_opening_one_fresh_database_at_once_migrate_it_once(db_url):
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it():
        start.wait()
        try:
            Database(db_url).dispose()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_what_a_sender_wrote_is_kept_within_its_column_on_every_backend(db_url):
    # PostgreSQL refuses a value longer than its VARCHAR where SQLite keeps it: the columns that
    # hold a sender's words keep their first n characters, the same on both.
    from bot.store.models import AttachmentRecord

    db = Database(db_url)
    try:
        long_addr = "x" * 400 + "@example.test"
        with db.session() as s:
            msg = Message(message_id="<long@example.test>", sha256="ab", size=1, from_addr=long_addr,
                          received_at=datetime(2020, 6, 8, 2, 0, tzinfo=timezone.utc))
            msg.attachments.append(AttachmentRecord(position=0, filename="a.docx", content_type="application/" + "y" * 300,
                                                    sha256="cd", size=1, status="parsed"))
            s.add(msg)
        with db.session() as s:
            msg = s.scalar(select(Message))
            assert msg.from_addr == long_addr[:320]
            assert msg.attachments[0].content_type == ("application/" + "y" * 300)[:200]
    finally:
        db.dispose()


def test_alembic_on_the_command_line_finds_the_bots_database_through_its_config(setup):
    """The deployment guide's `alembic current`: without -x url, the database of the bot's config
    ($INTAKE_CONFIG), as env.py promises (the project has no alembic.ini)."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.fixtures.commands import run

    assert run(setup, "status").returncode == 0  # opens the database: migrated to head
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path))
    proc = subprocess.run([sys.executable, "-m", "alembic", "current", "-v"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"Rev: {SCHEMA_HEAD} (head)" in proc.stdout
