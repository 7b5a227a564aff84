"""A real SMTP server for outbound-email tests (aiosmtpd in a thread on a free 127.0.0.1 port).

It keeps every message it accepted (envelope + raw bytes); ``stop()`` makes the port refuse
connections ("SMTP down") and ``start()`` brings it back on the same port.
"""

from __future__ import annotations

import email
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller

from tests.liveserver import free_port


@dataclass(frozen=True)
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=default_policy)  # type: ignore[return-value]


class _Handler:
    def __init__(self, sink: list[Captured], lock: threading.Lock, refused: set[str]) -> None:
        self.sink = sink
        self.lock = lock
        self.refused = refused

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.refused:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.sink.append(Captured(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 OK"


class CaptureServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Captured] = []
        self.refused: set[str] = set()  # recipients answered "550 no such user"
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> CaptureServer:
        if self._controller is None:
            self._controller = Controller(_Handler(self.messages, self._lock, self.refused), hostname="127.0.0.1", port=self.port)
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def take(self) -> list[Captured]:
        with self._lock:
            taken = list(self.messages)
            self.messages.clear()
        return taken
