"""Where replies go: a Maildir outbox (default, nothing is sent) or an SMTP server.

Flow position: bot compose -> policy -> **delivery**.  Both keep delivery keyed by the reply's
Message-ID so that a restart can ask "was this one delivered?" (`delivered`) before sending an
intended reply again:
- `MaildirOutbox` writes `tmp/<key>` and renames it to `new/<key>`, the key derived from the
  Message-ID; the rename is atomic, so the file either is in `new/` (delivered) or is not.
- `SmtpDelivery` sends with STARTTLS or SSL (plain SMTP only to a loopback address, for tests and
  local relays), logging in with credentials from environment variables or a file, never from the
  command line.  After the server accepts a reply a copy is filed in a sent Maildir, keyed the same
  way; that copy is what a restart checks.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from reviewer.errors import InputError, UsageError

USER_ENV = "NOTIFIER_REVIEW_SMTP_USER"
PASSWORD_ENV = "NOTIFIER_REVIEW_SMTP_PASSWORD"


def outbox_key(msgid: str) -> str:
    return "notifier-review." + hashlib.sha1(msgid.encode()).hexdigest()[:32]


class MaildirOutbox:
    """Replies filed into a Maildir, one file per Message-ID."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(str(path),
                             f"cannot create the outbox: {exc.strerror or exc}") from None
        self.where = f"outbox {self.path}"

    def delivered(self, msgid: str) -> bool:
        key = outbox_key(msgid)
        if (self.path / "new" / key).exists():
            return True
        try:
            return any(n.split(":", 1)[0] == key for n in os.listdir(self.path / "cur"))
        except OSError:
            return False

    def deliver(self, msgid: str, raw: bytes) -> None:
        key = outbox_key(msgid)
        tmp = self.path / "tmp" / f"{key}.{os.getpid()}"
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / "new" / key)


def read_credentials(path: str | None) -> tuple[str, str] | None:
    """(user, password) from a file (first line user, second password) or the environment."""
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except OSError as exc:
            raise InputError(path, f"cannot read credentials: {exc.strerror or exc}") from None
        if len(lines) < 2 or not lines[0].strip():
            raise InputError(path, "credentials file: want the user on line 1, the password on 2")
        return lines[0].strip(), lines[1]
    user = os.environ.get(USER_ENV)
    if user:
        return user, os.environ.get(PASSWORD_ENV, "")
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_hostport(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise UsageError("--smtp", f"want HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


class SmtpDelivery:
    """Replies sent through an SMTP server; a copy of each accepted reply is kept in `sent`."""

    def __init__(self, hostport: str, security: str, credentials: tuple[str, str] | None,
                 sent_dir: str | os.PathLike[str], timeout: float = 30.0) -> None:
        self.host, self.port = parse_hostport(hostport)
        if security == "none" and not _is_loopback(self.host):
            raise UsageError("--smtp-security", "plain SMTP only to a loopback address; use "
                             "starttls or ssl")
        self.security = security
        self.credentials = credentials
        self.timeout = timeout
        self.sent = MaildirOutbox(sent_dir)
        self.where = f"smtp {self.host}:{self.port}"
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            try:
                self._conn.noop()
                return self._conn
            except smtplib.SMTPException:
                self._conn = None
        context = ssl.create_default_context()
        conn: smtplib.SMTP
        if self.security == "ssl":
            conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                conn.starttls(context=context)
        if self.credentials:
            conn.login(*self.credentials)
        self._conn = conn
        return conn

    def delivered(self, msgid: str) -> bool:
        return self.sent.delivered(msgid)

    def deliver(self, msgid: str, raw: bytes) -> None:
        from email import message_from_bytes
        from email.policy import default

        msg = message_from_bytes(raw, policy=default)
        assert isinstance(msg, EmailMessage)
        rcpts = [a for _, a in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", []))
                 if a]
        sender = getaddresses([str(msg.get("From", ""))])
        try:
            self._connect().send_message(msg, sender[0][1] if sender else "", rcpts)
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryError(f"{self.where}: {exc}") from None
        self.sent.deliver(msgid, raw)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._conn = None


class DeliveryError(Exception):
    """A reply could not be handed on; it stays intended and is tried again next poll."""


Delivery = MaildirOutbox | SmtpDelivery
