"""The visitor websocket under hostile frames: an error frame back, the socket stays usable, nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from hypothesis import given
from hypothesis import strategies as st

from tests.chat.conftest import FORM, SHOP, Chat, run, visitor
from tests.security.conftest import FEW, JSON_VALUES, NASTY, XSS, counts, dump

pytestmark = pytest.mark.django_db(transaction=True)


def token_for(chat: Chat) -> str:
    from django.test import Client

    response = Client().post("/chat/api/pk_spar/sessions", FORM, content_type="application/json", HTTP_ORIGIN=SHOP)
    assert response.status_code == 201
    return str(response.json()["token"])


async def opened(token: str, origin: str | None = SHOP) -> Any:
    comm = visitor("pk_spar", token, origin)
    connected, _sub = await comm.connect()
    assert connected
    state = await comm.receive_json_from(timeout=3)
    assert state["type"] == "state"
    return comm


async def still_works(comm: Any) -> None:
    await comm.send_json_to({"type": "resume", "after_seq": 0})
    reply = await comm.receive_json_from(timeout=3)
    assert reply["type"] == "history", reply


FRAMES = st.one_of(
    JSON_VALUES.map(lambda v: ("text", json.dumps(v))),
    st.fixed_dictionaries({"type": st.one_of(JSON_VALUES, st.sampled_from(["message", "typing", "end", "resume", ""]))},
                          optional={"text": JSON_VALUES, "client_id": JSON_VALUES, "after_seq": JSON_VALUES,
                                    "on": JSON_VALUES}).map(lambda v: ("text", dump(v).decode())),
    st.binary(min_size=1, max_size=100).map(lambda b: ("bytes", b)),
    st.sampled_from([("text", "not json"), ("text", "[" * 12_000), ("text", "{" * 50), ("text", "x" * 200_000),
                     ("text", json.dumps({"type": "message", "text": "x" * 50_000, "client_id": "a"})),
                     ("text", json.dumps({"type": "message", "text": "\x00\ud800", "client_id": "\ud800"})),
                     ("text", json.dumps({"type": "message", "text": "hi", "client_id": "a" * 65})),
                     ("text", json.dumps({"type": "message", "text": "   ", "client_id": "b"})),
                     ("text", json.dumps({"type": "resume", "after_seq": 10**30})),
                     ("text", json.dumps({"type": "resume", "after_seq": -1})),
                     ("text", json.dumps({"type": "__init__"})), ("text", json.dumps({"type": "handlers"})),
                     ("text", "null")]),
)


def _would_store(kind: str, frame: Any) -> bool:
    """A frame the server may accept: a well-formed visitor message (or end, which changes the session)."""
    if kind != "text":
        return False
    try:
        content = json.loads(frame)
    except (ValueError, RecursionError):
        return False
    return isinstance(content, dict) and content.get("type") in ("message", "end")


@FEW
@given(frames=st.lists(FRAMES, min_size=1, max_size=4))
def test_hostile_frames_get_error_frames(chat: Chat, frames: list[tuple[str, Any]]) -> None:
    token = token_for(chat)

    async def scenario() -> None:
        comm = await opened(token)
        for kind, frame in frames:
            before = await sync_to_async(counts)()
            if kind == "bytes":
                await comm.send_to(bytes_data=frame)
            else:
                await comm.send_to(text_data=frame)
            reply = await comm.receive_json_from(timeout=3) if not _is_silent(kind, frame) else None
            while reply is not None and reply.get("type") in ("state", "typing", "message"):
                reply = await comm.receive_json_from(timeout=3)  # pushes of an accepted message or end
            if reply is not None:
                assert reply["type"] in ("error", "ack", "history"), reply
                if reply["type"] == "error":
                    assert reply["code"] != "server_error", (frame[:200], reply)
                    assert isinstance(reply["message"], str) and reply["message"]
                    assert await sync_to_async(counts)() == before
            elif not _would_store(kind, frame):
                assert await sync_to_async(counts)() == before
        await comm.disconnect()

    run(scenario)


def _is_silent(kind: str, frame: Any) -> bool:
    """Frames the server answers with nothing: typing hints and a visitor's end."""
    if kind != "text":
        return False
    try:
        content = json.loads(frame)
    except (ValueError, RecursionError):
        return False
    return isinstance(content, dict) and content.get("type") in ("typing", "end")


@FEW
@given(payload=XSS)
def test_xss_text_comes_back_as_json_data_only(chat: Chat, payload: str) -> None:
    token = token_for(chat)

    async def scenario() -> None:
        comm = await opened(token)
        await comm.send_to(text_data=json.dumps({"type": "message", "text": payload, "client_id": "x1"}))
        ack = await comm.receive_json_from(timeout=3)
        assert ack["type"] == "ack"
        await comm.send_json_to({"type": "resume", "after_seq": 0})
        while (reply := await comm.receive_json_from(timeout=3))["type"] != "history":
            pass
        texts = [m["text"] for m in reply["messages"]]
        assert payload in texts  # plain text, stored as typed: the widget puts it in with textContent
        await comm.disconnect()

    run(scenario)


@FEW
@given(origin=st.one_of(NASTY, st.sampled_from(["https://evil.example", "https://shop.example.evil.com", "null",
                                                "http://shop.example"])).filter(bool),
       token=st.one_of(NASTY, st.just("")))
def test_spoofed_origin_or_token_closes_with_a_code(chat: Chat, origin: str, token: str) -> None:
    real = token_for(chat)
    before = counts()

    async def scenario() -> None:
        for use_origin, use_token in ((origin, real), (SHOP, token)):
            from urllib.parse import quote

            comm = visitor("pk_spar", quote(use_token.encode("utf-8", "surrogatepass"), safe=""), None)
            comm.scope["headers"] = [(b"origin", use_origin.encode("utf-8", "surrogatepass"))]
            connected, _sub = await comm.connect()
            assert connected  # accepted first, then closed with a reason code
            out = await comm.receive_output(timeout=3)
            assert out["type"] == "websocket.close" and out["code"] in (4403, 4404), out
            await comm.disconnect()

    run(scenario)
    assert counts() == before


def test_unknown_channel_closes_4404(chat: Chat) -> None:
    async def scenario() -> None:
        comm = visitor("nope", "x")
        await comm.connect()
        out = await comm.receive_output(timeout=3)
        assert out == {"type": "websocket.close", "code": 4404}

    run(scenario)


def test_a_frame_after_hostile_ones_still_works(chat: Chat) -> None:
    token = token_for(chat)

    async def scenario() -> None:
        comm = await opened(token)
        await comm.send_to(text_data="[" * 12_000)
        assert (await comm.receive_json_from(timeout=3))["type"] == "error"
        await comm.send_to(bytes_data=b"\xff\x00")
        assert (await comm.receive_json_from(timeout=3))["type"] == "error"
        await still_works(comm)
        await comm.disconnect()

    run(scenario)
