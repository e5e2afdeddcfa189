"""Every sample mail through the real path: APPEND to Dovecot, `intake poll` as a subprocess,
`intake messages --json`, and the acknowledgements counted at the SMTP server."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from email.utils import parseaddr

import pytest

from tests.conftest import ROOT, SAMPLES

EXPECTED = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))


def intake(setup, *args, check=True):
    env = dict(os.environ, INTAKE_CONFIG=str(setup.config_path))
    proc = subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"intake {' '.join(args)} exited {proc.returncode}: {proc.stderr[-3000:]}")
    return proc


def append_samples(setup):
    for m in EXPECTED["messages"]:
        raw = (SAMPLES / m["file"]).read_bytes()
        for _ in range(m.get("append_times", 1)):
            setup.append(raw, datetime.fromisoformat(m["internaldate"]))


@pytest.fixture(scope="module")
def polled(tmp_path_factory, dovecot, smtp_sink):
    """The sample set polled once; shared by the assertions below (one poll is the expensive part)."""
    from tests.conftest import new_setup

    setup = new_setup(tmp_path_factory.mktemp("samples"), dovecot, smtp_sink)
    append_samples(setup)
    first = intake(setup, "poll")
    rows = json.loads(intake(setup, "messages", "--json").stdout)
    return setup, first, rows


def by_message_id(rows):
    return {r["message_id"]: r for r in rows}


@pytest.mark.parametrize("expected", EXPECTED["messages"], ids=[m["key"] for m in EXPECTED["messages"]])
def test_sample_outcome(polled, expected):
    setup, _, rows = polled
    row = by_message_id(rows)[expected["message_id"]]
    outcomes = expected["outcome"] if isinstance(expected["outcome"], list) else [expected["outcome"]]
    assert row["outcome"] in outcomes, row
    units = expected["unit"] if isinstance(expected["unit"], list) else [expected["unit"]]
    if row["outcome"] == "accepted":
        assert row["unit"] in units
        assert row["kinds"] == expected["kinds"]
    assert row["received_at"] == expected["internaldate"]
    if expected["values"]:
        parsed = [a for a in row["attachments"] if a["status"] == "parsed" and a["kind"] in expected["kinds"]]
        assert len(parsed) == 1, row["attachments"]
        values = parsed[0]["values"]
        for key, value in expected["values"].items():
            assert values.get(key) == value, (key, values.get(key), value)
        assert sorted(w["key"] for w in parsed[0]["warnings"]) == sorted(expected["warnings"])
        assert sorted(e["key"] for e in parsed[0]["errors"]) == sorted(expected["errors"])


@pytest.mark.parametrize("expected", EXPECTED["messages"], ids=[m["key"] for m in EXPECTED["messages"]])
def test_sample_acknowledgement(polled, expected):
    setup, _, _ = polled
    replies = [r for r in setup.sent if r.message["In-Reply-To"] == expected["message_id"]]
    if expected["ack"] is True:
        assert len(replies) == 1
        msg = replies[0].message
        assert replies[0].rcpt_tos == [expected["from"]]
        assert msg["Subject"] == "回复：" + expected["subject"]
        assert msg["Auto-Submitted"] == "auto-replied"
        assert expected["message_id"] in msg["References"]
        body = msg.get_body(("plain",)).get_content()
        assert "收到您的邮件" in body
        if expected["unit"] and isinstance(expected["unit"], str):
            assert expected["unit"] in body
    elif expected["ack"] is False:
        assert replies == []
    else:
        assert len(replies) <= 1


def test_acknowledgement_reads_back_what_was_read(polled):
    setup, _, _ = polled
    progress = next(m for m in EXPECTED["messages"] if m["key"] == "p-js-progress-variants")
    reply = next(r for r in setup.sent if r.message["In-Reply-To"] == progress["message_id"])
    body = reply.message.get_body(("plain",)).get_content()
    read = sum(1 for k, v in progress["values"].items() if not k.startswith("header.") and v is not None)
    assert f"读取 {read} 项" in body
    assert "30多" in body  # the approximate value is named with what was taken
    liaison = next(m for m in EXPECTED["messages"] if m["key"] == "p-qs-liaison")
    reply = next(r for r in setup.sent if r.message["In-Reply-To"] == liaison["message_id"])
    body = reply.message.get_body(("plain",)).get_content()
    assert liaison["values"]["mobile"] in body and "进展情况统计表" in body  # still owed


def test_second_poll_sends_nothing_new(polled):
    setup, first, _ = polled
    before = len(setup.sent)
    out = intake(setup, "poll").stdout
    assert "新邮件 0 封" in out
    assert len(setup.sent) == before


def test_same_mail_appended_twice_is_recorded_once(polled):
    setup, _, _ = polled
    sample = EXPECTED["messages"][0]
    raw = (SAMPLES / sample["file"]).read_bytes()
    before = len(setup.sent)
    setup.append(raw, datetime.fromisoformat(sample["internaldate"]))
    intake(setup, "poll")
    rows = json.loads(intake(setup, "messages", "--json").stdout)
    assert [r["message_id"] for r in rows].count(sample["message_id"]) == 1
    assert len(setup.sent) == before


def test_messages_table_and_state_filter(polled):
    setup, _, _ = polled
    table = intake(setup, "messages").stdout
    assert "已登记" in table and "自动回复" in table
    auto = json.loads(intake(setup, "messages", "--json", "--state", "auto_reply").stdout)
    assert [r["outcome"] for r in auto] == ["auto_reply"]


def test_acknowledgements_never_go_to_machines(polled):
    setup, _, _ = polled
    machine_senders = {parseaddr(m["from"])[1] for m in EXPECTED["messages"] if m["outcome"] == "auto_reply"}
    assert machine_senders
    for r in setup.sent:
        assert not machine_senders & set(r.rcpt_tos)
