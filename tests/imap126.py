"""An IMAP proxy in front of the test Dovecot that behaves like 126.com (lab-notes.md):

* capabilities narrowed to what 126.com offers: no IDLE, MOVE, CONDSTORE, QRESYNC or ENABLE
  (in `* CAPABILITY` lines and in `[CAPABILITY ...]` response codes alike);
* `STATUS ... (UIDNEXT)` answered with an empty list;
* SELECT/EXAMINE before the client sent ID refused with 126.com's own words, and every
  command after that refused with `State error`;
* the commands it does not offer (IDLE, MOVE, ENABLE) refused with BAD if sent anyway.

Bytes are relayed as they are otherwise, literals included, so FETCH bodies pass untouched.
One thread per direction per connection; `stop()` closes everything it opened.
"""
from __future__ import annotations

import re
import socket
import threading

OFFERED = {"IMAP4REV1", "XLIST", "SPECIAL-USE", "ID", "LITERAL+", "UIDPLUS", "SASL-IR", "NAMESPACE",
           "CHILDREN", "UNSELECT"}
UNSAFE_LOGIN = "NO SELECT Unsafe Login. Please contact kefu@188.com for help"
STATE_ERROR = "NO SELECT State error"
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
_CAPABILITY_CODE = re.compile(rb"\[CAPABILITY ([^\]]*)\]")
_STATUS = re.compile(rb"^(\* STATUS .*?)\([^()]*\)\r\n$")


def _offered(token: bytes) -> bool:
    name = token.decode("ascii", "replace").upper()
    return name in OFFERED or name.startswith("AUTH=")


def narrow_capabilities(line: bytes) -> bytes:
    """A server line with the capabilities 126.com does not offer removed."""
    if line.upper().startswith(b"* CAPABILITY "):
        tokens = line[len(b"* CAPABILITY "):].split()
        return b"* CAPABILITY " + b" ".join(t for t in tokens if _offered(t)) + b"\r\n"
    return _CAPABILITY_CODE.sub(
        lambda m: b"[CAPABILITY " + b" ".join(t for t in m.group(1).split() if _offered(t)) + b"]", line)


class _Connection:
    def __init__(self, client: socket.socket, upstream: socket.socket, log: list[str]):
        self.client = client
        self.upstream = upstream
        self.log = log
        self.lock = threading.Lock()  # both directions write to the client
        self.id_sent = False
        self.refused = False

    def to_client(self, data: bytes) -> None:
        with self.lock:
            self.client.sendall(data)

    def client_to_server(self) -> None:
        reader = self.client.makefile("rb")
        try:
            while True:
                line = reader.readline()
                if not line:
                    return
                literal = _LITERAL.search(line)
                words = line.split(None, 3)
                tag = words[0].decode("ascii", "replace") if words else "*"
                command = words[1].upper().decode("ascii", "replace") if len(words) > 1 else ""
                if command == "UID" and len(words) > 2:
                    command = "UID " + words[2].upper().decode("ascii", "replace")
                self.log.append(command)
                answer = self._refusal(command)
                if answer and not literal:
                    self.to_client(f"{tag} {answer}\r\n".encode())
                    continue
                if command == "ID":
                    self.id_sent = True
                self.upstream.sendall(line)
                while literal:  # the literal's bytes, then the rest of the command
                    self.upstream.sendall(reader.read(int(literal.group(1))))
                    line = reader.readline()
                    if not line:
                        return
                    self.upstream.sendall(line)
                    literal = _LITERAL.search(line)
        except OSError:
            return
        finally:
            self._close()

    def _refusal(self, command: str) -> str | None:
        if command == "LOGOUT":
            return None
        if self.refused:
            return STATE_ERROR
        if command in ("SELECT", "EXAMINE") and not self.id_sent:
            self.refused = True
            return UNSAFE_LOGIN
        if command in ("IDLE", "ENABLE", "MOVE", "UID MOVE"):
            return "BAD Unsupported command"
        return None

    def server_to_client(self) -> None:
        reader = self.upstream.makefile("rb")
        try:
            while True:
                line = reader.readline()
                if not line:
                    return
                literal = _LITERAL.search(line)
                if literal:
                    self.to_client(line + reader.read(int(literal.group(1))))
                    continue
                line = narrow_capabilities(line)
                status = _STATUS.match(line)
                if status:
                    line = status.group(1) + b"()\r\n"
                self.to_client(line)
        except OSError:
            return
        finally:
            self._close()

    def _close(self) -> None:
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class Imap126:
    """`Imap126(upstream_port).start()`; `.port` is where clients connect."""

    def __init__(self, upstream_port: int, host: str = "127.0.0.1"):
        self.upstream = (host, upstream_port)
        self.listener = socket.create_server((host, 0))
        self.port = self.listener.getsockname()[1]
        self.commands: list[str] = []  # every command a client sent, in order
        self._connections: list[_Connection] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> "Imap126":
        self._thread.start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            connection = _Connection(client, upstream, self.commands)
            self._connections.append(connection)
            for target in (connection.client_to_server, connection.server_to_client):
                threading.Thread(target=target, daemon=True).start()

    def stop(self) -> None:
        self.listener.close()
        for connection in self._connections:
            connection._close()
        self._thread.join(timeout=5)
