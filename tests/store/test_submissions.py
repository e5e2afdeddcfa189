from datetime import datetime, timedelta, timezone

from bot.store.db import Database
from bot.store.models import Message
from bot.store import submissions as subs

T0 = datetime(2020, 6, 20, 2, 0, tzinfo=timezone.utc)


def _msg(s, n):
    m = Message(message_id=f"<{n}@x>", sha256=f"{n:064d}", size=1, received_at=T0 + timedelta(hours=n))
    s.add(m)
    s.flush()
    return m.id


def record(s, n, values, **kw):
    return subs.record(s, unit="岳西县总工会", item="progress_table", kind="progress_table", message_pk=_msg(s, n),
                       attachment_pk=None, received_at=T0 + timedelta(hours=n), values=values, text="", **kw)


def current(s):
    from sqlalchemy import select
    from bot.store.models import Submission
    return [x.values for x in s.scalars(select(Submission).where(Submission.current.is_(True), Submission.evidence_only.is_(False)))]


def test_versions_and_duplicates(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/t.db")
    with db.session() as s:
        assert record(s, 1, {"a": 1}) == subs.NEW
        assert record(s, 2, {"a": 2}) == subs.NEW
        assert record(s, 3, {"a": 2}) == subs.DUPLICATE  # same as the current version
        assert record(s, 4, {"a": 1}) == subs.NEW  # back to v1: v1's content counts again
        assert current(s) == [{"a": 1}]


def test_same_scan_twice_is_a_duplicate_and_never_replaces_the_file(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/t.db")
    with db.session() as s:
        assert record(s, 1, {"a": 1}) == subs.NEW
        assert record(s, 2, {}, evidence_only=True, file_sha256="ab" * 32) == subs.NEW
        assert record(s, 3, {}, evidence_only=True, file_sha256="ab" * 32) == subs.DUPLICATE
        assert current(s) == [{"a": 1}]


def test_older_arrival_processed_later_does_not_become_current(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/t.db")
    with db.session() as s:
        assert record(s, 5, {"a": 5}) == subs.NEW
        assert record(s, 1, {"a": 1}) == subs.NEW
        assert current(s) == [{"a": 5}]


def test_liaison_of_is_the_current_liaison_form_as_liaisons_gives_it(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/t.db")
    with db.session() as s:
        def liaison(n, unit, name, **kw):
            return subs.record(s, unit=unit, item="liaison_form", kind="liaison_form", message_pk=_msg(s, n),
                               attachment_pk=None, received_at=T0 + timedelta(hours=n),
                               values={"name": name, "email": f"{n}@x.test"}, text="", **kw)
        liaison(1, "岳西县总工会", "张三")
        liaison(2, "岳西县总工会", "李四")
        liaison(3, "桐城市总工会", "王五")
        liaison(4, "桐城市总工会", "扫描件", evidence_only=True, file_sha256="f" * 64)
        record(s, 5, {"a": 1})
        assert subs.liaison_of(s, "岳西县总工会")["name"] == "李四"
        assert subs.liaison_of(s, "桐城市总工会")["name"] == "王五"
        assert subs.liaison_of(s, "潜山市总工会") is None
        assert {u: subs.liaison_of(s, u) for u in subs.liaisons(s)} == subs.liaisons(s)
