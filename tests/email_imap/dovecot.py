"""A real, throw-away dovecot IMAP server for tests.

`Dovecot.start(tmp)` writes a config under `tmp` (passwd-file auth with plaintext test passwords, Maildir mail
under `tmp/mail`, IMAP with IDLE on a free 127.0.0.1 port, STARTTLS and an imaps port with a self-signed
certificate made by `cryptography`), runs `dovecot -F -c <conf>` in the foreground, waits for the greeting and
stops it by PID. Nothing of the system's /etc/dovecot is read and no system service is touched.

As root (CI, this machine) dovecot's own processes drop to the `dovecot`/`dovenull` users the Debian package
creates and the mail belongs to `nobody`; as an ordinary user everything runs as that user.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from imapclient import IMAPClient

PASSWORD = "test-secret-pw"


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class Dovecot:
    root: Path
    port: int  # plain IMAP (STARTTLS offered)
    imaps_port: int  # implicit TLS
    cafile: Path
    proc: subprocess.Popen[bytes]
    mail_uid: int
    mail_gid: int
    host: str = "127.0.0.1"
    users: dict[str, str] = field(default_factory=dict)
    _passwd_mtime: int = 0

    # ---- lifecycle ------------------------------------------------------------------------------------

    @classmethod
    def start(cls, root: Path | None = None, *, timeout: float = 20, extra_conf: str = "", separator: str = "/",
              prefix: str = "") -> Dovecot:
        """Start a server in `root` (default: a new directory under the system tmp; as root its parents must be
        traversable by dovecot's unprivileged users, which pytest's 0700 tmp_path is not)."""
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (scripts/setup_mail.sh installs dovecot-imapd)")
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="linia-dovecot-"))
        root.mkdir(parents=True, exist_ok=True)
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(exist_ok=True)
        me = pwd.getpwuid(os.getuid())
        if os.getuid() == 0:
            internal, login = "dovecot", "dovenull"
            nobody = pwd.getpwnam("nobody")
            mail_uid, mail_gid = nobody.pw_uid, nobody.pw_gid
            # dovecot's unprivileged processes must reach the passwd file and the mail of `nobody`.
            root.chmod(0o755)
            os.chown(root / "mail", mail_uid, mail_gid)
        else:
            internal = login = me.pw_name
            mail_uid, mail_gid = me.pw_uid, me.pw_gid
        cert, key = make_self_signed(root)
        if os.getuid() == 0:
            os.chown(key, 0, 0)
        port, imaps_port = free_port(), free_port()
        (root / "passwd").write_text("")
        (root / "passwd").chmod(0o644)
        conf = root / "dovecot.conf"
        conf.write_text(f"""\
base_dir = {root}/run
state_dir = {root}/state
instance_name = linia-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
first_valid_gid = 0
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
mail_location = maildir:{root}/mail/%u
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 1 mins
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = {separator}
  prefix = {prefix}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
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
{extra_conf}
""")
        log = (root / "stdout.log").open("wb")
        # Its own process group, so stop() also ends the per-client imap processes (they outlive the master).
        proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        server = cls(root=root, port=port, imaps_port=imaps_port, cafile=cert, proc=proc, mail_uid=mail_uid,
                     mail_gid=mail_gid)
        try:
            server._wait(timeout)
        except Exception:
            server.stop()
            raise
        return server

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on {self.host}:{self.port}: {self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        parts = []
        for name in ("stdout.log", "dovecot.log"):
            p = self.root / name
            if p.exists():
                parts.append(p.read_text(errors="replace")[-n:])
        return "\n".join(parts)

    def stop(self) -> None:
        """SIGTERM to the process group of the master we started (by its PID), then SIGKILL to what is left."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # ---- accounts and mail ----------------------------------------------------------------------------

    def add_user(self, name: str, password: str = PASSWORD) -> str:
        """A new IMAP account (dovecot re-reads the passwd file when it changes)."""
        self.users[name] = password
        passwd = self.root / "passwd"
        tmp = passwd.with_suffix(".new")
        tmp.write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()))
        tmp.chmod(0o644)
        tmp.replace(passwd)
        # passwd-file is reloaded when its mtime changes, seen with one-second resolution: give every version
        # its own second so two accounts added within one second are both seen.
        self._passwd_mtime = max(int(time.time()) + 1, self._passwd_mtime + 1)
        os.utime(passwd, (self._passwd_mtime, self._passwd_mtime))
        # dovecot looks at the file at most once per second: wait until the new account can log in.
        deadline = time.monotonic() + 5
        while True:
            try:
                with self.client(name):
                    return name
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @contextmanager
    def client(self, user: str, *, tls: bool = False) -> Iterator[IMAPClient]:
        ctx = ssl.create_default_context(cafile=str(self.cafile))
        c = IMAPClient(self.host, port=self.imaps_port if tls else self.port, ssl=tls, ssl_context=ctx, timeout=10)
        c.login(user, self.users[user])
        try:
            yield c
        finally:
            with contextlib.suppress(Exception):
                c.logout()

    def append(self, user: str, raw: bytes | list[bytes], folder: str = "INBOX") -> None:
        """Deliver with IMAP APPEND (the real protocol), one or many messages in one session."""
        messages = [raw] if isinstance(raw, bytes) else raw
        with self.client(user) as c:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            for m in messages:
                c.append(folder, m)

    def uids(self, user: str, folder: str = "INBOX") -> list[int]:
        with self.client(user) as c:
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            return sorted(int(u) for u in c.search(["NOT", "DELETED"]))

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        with self.client(user) as c:
            if not c.folder_exists(folder):
                return []
            c.select_folder(folder, readonly=True)
            uids = c.search(["NOT", "DELETED"])
            data = c.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [data[u][b"BODY[]"] for u in sorted(data)]
