"""The bot against a server that behaves like 126.com (tests/imap126.py in front of Dovecot):
no IDLE, MOVE, CONDSTORE; an empty STATUS (UIDNEXT); SELECT refused until ID is sent."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from tests.conftest import ROOT
from tests.imap126 import Imap126
from tests.servers import PASSWORD, Daemon
from tests.fixtures.commands import weekly_mail
from tests.test_samples import EXPECTED, SAMPLES, intake


@pytest.fixture
def server(dovecot):
    proxy = Imap126(dovecot.port).start()
    yield proxy
    proxy.stop()


def behind(setup, proxy: Imap126, **replace) -> None:
    """Point the setup's config at the 126.com-like proxy."""
    text = setup.config_path.read_text(encoding="utf-8")
    text = text.replace(f"port = {setup.dovecot.port}\n", f"port = {proxy.port}\n", 1)
    for old, new in replace.items():
        text = text.replace(old, new)
    setup.config_path.write_text(text, encoding="utf-8")


def test_the_proxy_behaves_like_126(setup, server):
    """The stand-in is faithful, or the tests below would prove nothing."""
    setup.append(weekly_mail())
    client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
    client.login(setup.user, PASSWORD)
    caps = {c.decode().upper() for c in client.capabilities()}
    assert "ID" in caps and "UIDPLUS" in caps
    assert not caps & {"IDLE", "MOVE", "CONDSTORE", "QRESYNC", "ENABLE"}
    with pytest.raises(IMAPClientError, match="Unsafe Login"):
        client.select_folder("INBOX")
    with pytest.raises(IMAPClientError, match="State error"):
        client.select_folder("INBOX")
    client.logout()

    client = IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=10)
    client.login(setup.user, PASSWORD)
    client.id_({"name": "test"})
    assert client.select_folder("INBOX")[b"EXISTS"] == 1
    status = client.folder_status("INBOX", [b"UIDNEXT"])
    assert b"UIDNEXT" not in status
    client.logout()


def test_poll_takes_the_samples_and_moves_them_without_move(make_setup, server):
    setup = make_setup(processed="已处理")
    behind(setup, server)
    for m in EXPECTED["messages"]:
        setup.append((SAMPLES / m["file"]).read_bytes(), datetime.fromisoformat(m["internaldate"]))
    total = sum(m.get("append_times", 1) for m in EXPECTED["messages"])
    out = intake(setup, "poll").stdout
    assert f"收取 {total} 封" in out
    rows = json.loads(intake(setup, "messages", "--json").stdout)
    assert len(rows) == total - sum(m.get("append_times", 1) - 1 for m in EXPECTED["messages"])
    assert all(r["outcome"] != "pending" for r in rows)
    # the bot sent ID before SELECT, never IDLE or MOVE, and moved with COPY + UID EXPUNGE
    commands = server.commands
    assert commands.index("ID") < commands.index("SELECT")
    assert not {"IDLE", "MOVE", "UID MOVE", "ENABLE"} & set(commands)
    assert "UID COPY" in commands and "UID EXPUNGE" in commands
    client = IMAPClient("127.0.0.1", port=setup.dovecot.port, ssl=False)
    client.login(setup.user, PASSWORD)
    assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
    assert client.select_folder("已处理", readonly=True)[b"EXISTS"] == total
    client.logout()
    # nothing new: a second poll fetches nothing and sends nothing
    sent = len(setup.sent)
    assert "收取 0 封" in intake(setup, "poll").stdout
    assert len(setup.sent) == sent


def test_daemon_polls_without_idle_and_check_passes(setup, server):
    behind(setup, server, **{"poll_seconds = 1\n": "poll_seconds = 1\n"})
    assert "IMAP" in intake(setup, "check").stdout
    with Daemon(setup.config_path, ROOT) as daemon:
        assert daemon.wait_until(lambda: "SELECT" in server.commands, timeout=60)
        setup.append(weekly_mail(), datetime(2020, 6, 4, 9, 0, tzinfo=timezone.utc))
        assert daemon.wait_until(lambda: setup.sent_to("tcszgh@example.test"), timeout=60), daemon.err
        assert daemon.stop() == 0
    assert "IDLE" not in server.commands
    assert server.commands.count("SELECT") >= 1
