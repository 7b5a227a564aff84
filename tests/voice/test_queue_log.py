"""queue_log import: documented samples, idempotent re-import, bad lines with their numbers, unusable files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linia.intake.voice import queue_log
from linia.intake.voice.models import Call, CtiEvent, RejectedCtiEvent

from .conftest import FIXTURES, World


def run(path: Path, slug: str = "alfa") -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("voice", "import-queue-log", str(path), "--tenant", slug, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(str(exc))
        return out.getvalue(), err.getvalue(), exc.returncode
    return out.getvalue(), err.getvalue(), 0


def test_sample_imports_every_call(world: World) -> None:
    a = world.a
    out, err, code = run(FIXTURES / "queue_log_sample")
    assert code == 0, err
    calls = {c.pbx_call_id: c for c in Call.objects.filter(tenant=a.tenant)}
    assert set(calls) == {"1795600800.101", "1795600900.201", "1795601000.301", "1795601400.401"}
    answered = calls["1795600800.101"]
    assert answered.line == a.line and answered.caller == "+48601000001"
    assert answered.agent == a.agent and answered.agent_extension == "201" and not answered.abandoned
    assert answered.queued_at.timestamp() == 1795600800
    assert answered.ringing_at.timestamp() == 1795600801  # RINGNOANSWER at 816 after ringing 15000 ms
    assert answered.answered_at.timestamp() == 1795600821 and answered.ended_at.timestamp() == 1795600920
    assert list(answered.events.values_list("event", flat=True)) == [
        "queued", "ringing", "queued", "ringing", "answered", "ended"]
    assert calls["1795600900.201"].abandoned and calls["1795600900.201"].answered_at is None
    timed_out = calls["1795601000.301"]  # EXITWITHTIMEOUT: overflow, not an abandon
    assert timed_out.state == "ended" and not timed_out.abandoned
    transferred = calls["1795601400.401"]
    assert transferred.answered_at is not None and transferred.state == "ended"
    assert "4 lines without call events" not in out and "0 refused" in out


def test_reimport_changes_nothing(world: World) -> None:
    run(FIXTURES / "queue_log_sample")
    before = (CtiEvent.objects.count(), list(Call.objects.order_by("id").values_list("state", "last_sequence")))
    out, _err, code = run(FIXTURES / "queue_log_sample")
    assert code == 0
    assert (CtiEvent.objects.count(), list(Call.objects.order_by("id").values_list("state", "last_sequence"))) \
        == before
    assert f"{before[0]} already imported" in out and "0 events applied" in out


def test_bad_lines_are_reported_with_numbers(world: World) -> None:
    _out, err, code = run(FIXTURES / "queue_log_with_bad_lines")
    assert code == 1
    assert "line 2: expected time|callid" in err
    assert "line 3: bad time 'yesterday'" in err
    assert "line 5: expected time|callid" in err
    assert "line 7: ended refused (unknown_call)" in err
    call = Call.objects.get(pbx_call_id="1795602000.601")
    assert call.state == "ended" and call.answered_at is not None
    assert RejectedCtiEvent.objects.get(pbx_call_id="1795601600.501").source == "queue_log"


@pytest.mark.parametrize("name", ["not_a_queue_log.bin", "missing_file"])
def test_unusable_files_exit_2(world: World, name: str) -> None:
    _out, err, code = run(FIXTURES / name)
    assert code == 2 and err
    assert not Call.objects.exists()


def test_all_garbage_text_file_exits_2(world: World, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("dear diary\nnothing here\n")
    _out, err, code = run(path)
    assert code == 2 and "line 1:" in err and "no line is in queue_log format" in err


def test_unknown_tenant_exits_2(world: World) -> None:
    assert run(FIXTURES / "queue_log_sample", slug="nope")[2] == 2


def test_parser_reads_database_times_and_agent_interfaces() -> None:
    parsed = queue_log.parse([
        "2026-11-25 10:00:00.5|1.1|q|NONE|ENTERQUEUE||+48601000001|1",
        "2026-11-25 10:00:04|1.1|q|Local/201@from-queue/n|CONNECT|4|1.2|3",
    ])
    assert not parsed.issues
    kinds = [(e.event, e.agent_extension, e.at.isoformat() if e.at else "") for _r, e in parsed.events]
    assert kinds == [("queued", "", "2026-11-25T10:00:00.500000+00:00"),
                     ("ringing", "201", "2026-11-25T10:00:01+00:00"),
                     ("answered", "201", "2026-11-25T10:00:04+00:00")]
    sequences = [e.sequence for _r, e in parsed.events]
    assert sequences == sorted(set(sequences))
