"""Answers a server process remembers for a few seconds (checked API tokens, voice lines), forgotten at once
when something they depend on changes in the same process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TimedMemo(Generic[V]):
    """Values by key, each kept for ``seconds()`` (read at every look-up, so settings changes apply; 0 turns it
    off). ``forget()`` drops them all; an answer read while a ``forget()`` happened is not kept, so a change
    made in this process is never hidden by a read that started before it. At most ``max_size`` keys: past
    that the memo starts again, so keys taken from input cannot grow it without bound."""

    def __init__(self, seconds: Callable[[], float], *, max_size: int = 10_000) -> None:
        self.seconds, self.max_size = seconds, max_size
        self._values: dict[Hashable, tuple[V, float]] = {}  # key -> (value, time.monotonic() it expires)
        self._generation = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: Hashable, read: Callable[[], V], *, keep: Callable[[V], bool] = lambda _v: True) -> V:
        """The remembered value, or ``read()`` (remembered when ``keep`` says so; else any old one is dropped)."""
        ttl = self.seconds()
        now = time.monotonic()
        found = self._values.get(key) if ttl > 0 else None
        if found is not None and found[1] > now:
            return found[0]
        generation = self._generation
        value = read()
        if ttl > 0:
            with self._lock:
                if not keep(value):
                    self._values.pop(key, None)
                elif generation == self._generation:
                    if len(self._values) >= self.max_size:
                        self._values.clear()
                    self._values[key] = (value, now + ttl)
        return value

    def forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._values.clear()
