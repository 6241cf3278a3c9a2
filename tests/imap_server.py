"""A real IMAP server for the tests: Debian's dovecot, unprivileged, on loopback.

Started with a throw-away configuration in a temporary folder: one user
(``reader``), Maildir storage, plain IMAP and IMAPS listeners on free
loopback ports, and a self-signed certificate for 127.0.0.1 that the tests
trust through ``SSL_CERT_FILE``.  When the tests run as root, dovecot runs
as ``nobody`` (it refuses to log users in as root).
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "reader"
PASSWORD = "correct horse battery staple"

_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 0
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def available() -> bool:
    return os.access(DOVECOT, os.X_OK) and shutil.which("openssl") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    def __init__(self) -> None:
        # Not under pytest's tmp_path: its folders are private to root, and
        # dovecot may run as nobody.
        self.root = Path(tempfile.mkdtemp(prefix="engage-imap-"))
        self.imap_port, self.imaps_port = free_port(), free_port()
        self.cert = self.root / "cert.pem"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", str(self.root / "key.pem"), "-out", str(self.cert),
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir()
        prefix: list[str] = []
        if os.geteuid() == 0:
            user, group = "nobody", "nogroup"
            entry = pwd.getpwnam(user)
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
            prefix = ["setpriv", f"--reuid={user}", f"--regid={entry.pw_gid}", "--clear-groups"]
        else:
            user = pwd.getpwuid(os.geteuid()).pw_name
            group = str(os.getegid())
        conf = self.root / "dovecot.conf"
        conf.write_text(
            _CONF.format(
                root=self.root,
                user=user,
                group=group,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
            )
        )
        self.process = subprocess.Popen(
            [*prefix, DOVECOT, "-F", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (self.root / "dovecot.log").read_text(errors="replace")
                        if (self.root / "dovecot.log").exists()
                        else ""
                    )
                    self.close()
                    raise RuntimeError(f"dovecot did not start: {log[-2000:]}") from None
                time.sleep(0.05)

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.cert))
        client = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, folder: str, messages: list[bytes]) -> None:
        """Put messages in ``folder`` (created), in order, unread."""
        client = self.client()
        try:
            client.create(f'"{folder}"')
            for raw in messages:
                status, _ = client.append(f'"{folder}"', "", imaplib.Time2Internaldate(0), raw)
                assert status == "OK"
        finally:
            client.logout()

    def seen(self, folder: str) -> list[bytes]:
        """UIDs carrying the \\Seen flag."""
        client = self.client()
        try:
            client.select(f'"{folder}"', readonly=True)
            _status, data = client.uid("SEARCH", "SEEN")
            return (data[0] or b"").split()
        finally:
            client.logout()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
