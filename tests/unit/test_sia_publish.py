"""The HPUB command the SIA receiver writes for each event (nats-py's publish() is bypassed)."""

from __future__ import annotations

from commonwatch.ingest.sia.publish import hpub


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
