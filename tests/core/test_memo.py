"""core.memo.TimedMemo: remembered for its seconds, forgotten at once, never keeps a read older than a forget."""

from __future__ import annotations

import time

from linia.core.memo import TimedMemo


class Source:
    def __init__(self) -> None:
        self.value, self.reads = "a", 0

    def read(self) -> str:
        self.reads += 1
        return self.value


def test_a_value_is_read_once_until_it_expires() -> None:
    memo: TimedMemo[str] = TimedMemo(lambda: 0.2)
    src = Source()
    assert [memo.get("k", src.read) for _ in range(3)] == ["a", "a", "a"] and src.reads == 1
    src.value = "b"
    assert memo.get("k", src.read) == "a"
    time.sleep(0.25)
    assert memo.get("k", src.read) == "b" and src.reads == 2


def test_forget_applies_at_once_and_a_read_begun_before_it_is_not_kept() -> None:
    memo: TimedMemo[str] = TimedMemo(lambda: 60)
    src = Source()
    memo.get("k", src.read)
    src.value = "b"
    memo.forget()
    assert memo.get("k", src.read) == "b"

    def read_while_something_changes() -> str:
        value = src.read()  # what the database said before the change below
        src.value = "c"
        memo.forget()  # the change, saved in this process meanwhile
        return value

    assert memo.get("other", read_while_something_changes) == "b"
    assert memo.get("other", src.read) == "c"  # the stale answer was not kept


def test_keep_false_drops_the_old_value_and_zero_seconds_turns_it_off() -> None:
    memo: TimedMemo[str | None] = TimedMemo(lambda: 60)
    memo.get("k", lambda: "a")
    assert memo.get("k", lambda: None, keep=lambda v: v is not None) == "a"  # still remembered: not read
    memo.forget()
    assert memo.get("k", lambda: None, keep=lambda v: v is not None) is None and len(memo) == 0
    off: TimedMemo[str] = TimedMemo(lambda: 0)
    src = Source()
    off.get("k", src.read)
    off.get("k", src.read)
    assert src.reads == 2 and len(off) == 0


def test_it_starts_again_past_its_size() -> None:
    memo: TimedMemo[int] = TimedMemo(lambda: 60, max_size=3)
    for i in range(10):
        memo.get(i, lambda i=i: i)
        assert len(memo) <= 3
