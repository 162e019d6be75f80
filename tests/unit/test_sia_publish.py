"""The HPUB command the SIA receiver writes for each event (nats-py's publish() is bypassed)."""

from __future__ import annotations

from commonwatch.ingest.sia.publish import AckClient, hpub, stored


def test_it_writes_an_hpub_with_the_message_id_header_and_exact_sizes() -> None:
    payload = b'{"type":"fire"}'
    command = hpub("commonwatch.events._.sia-1234", "_INBOX.abc.7", "sia-0f-0", payload)
    line, rest = command.split(b"\r\n", 1)
    verb, subject, reply, head_size, total_size = line.split(b" ")
    assert (verb, subject, reply) == (b"HPUB", b"commonwatch.events._.sia-1234", b"_INBOX.abc.7")
    head = b"NATS/1.0\r\nNats-Msg-Id: sia-0f-0\r\n\r\n"
    assert rest == head + payload + b"\r\n"
    assert int(head_size) == len(head)
    assert int(total_size) == len(head) + len(payload)


def test_it_counts_an_ack_or_a_duplicate_as_stored_and_an_error_or_a_status_not() -> None:
    assert stored(b'{"stream":"CW_EVENTS","seq":7}', None)
    assert stored(b'{"stream":"CW_EVENTS","seq":7,"duplicate":true}', None)
    assert not stored(b'{"error":{"code":503,"description":"no space"}}', None)
    assert not stored(b"", b"NATS/1.0 503\r\n\r\n")  # no responders: no stream for the subject


async def test_its_client_hands_tapped_replies_to_the_callback_and_the_rest_to_nats_py() -> None:
    nc = AckClient()
    seen: list[tuple[bytes, bytes, bytes | None]] = []
    nc.tap("_INBOX.acks.", lambda subject, data, headers: seen.append((subject, data, headers)))
    await nc._process_msg(1, b"_INBOX.acks.5", b"", b'{"seq":1}', None)
    await nc._process_msg(2, b"commonwatch.events.x", b"", b"{}", None)  # no such subscription
    assert seen == [(b"_INBOX.acks.5", b'{"seq":1}', None)]
