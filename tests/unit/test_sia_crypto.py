"""DC-09 encryption: AES-128/192/256-CBC, zero IV, `pad|data]xdata_timestamp`, ASCII or hex keys."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from commonwatch.ingest.sia.crypto import BadKey, Undecryptable, decrypt, encrypt, parse_key

REST = "Nri1/FA01]_14:12:04,09-25-2019"


@pytest.mark.parametrize("key", ["0123456789abcdef", "0123456789abcdef01234567", "K" * 32])
def test_it_round_trips_with_ascii_keys_of_each_aes_size(key: str) -> None:
    keys = parse_key(key)
    sealed = encrypt(keys[0], REST)
    assert sealed == sealed.upper() and len(sealed) % 32 == 0
    assert decrypt(keys, sealed) == (keys[0], REST)


@pytest.mark.parametrize("size", [16, 24, 32])
def test_it_round_trips_with_hex_keys(size: int) -> None:
    raw = bytes(range(size))
    keys = parse_key(raw.hex())
    assert raw in keys
    assert decrypt(keys, encrypt(raw, REST)) == (raw, REST)


def test_it_tries_a_32_digit_key_both_as_ascii_and_as_hex() -> None:
    text = "00112233445566778899AABBCCDDEEFF"
    as_ascii, as_hex = parse_key(text)
    assert len(as_ascii) == 32 and len(as_hex) == 16
    assert decrypt((as_ascii, as_hex), encrypt(as_hex, REST))[0] == as_hex
    assert parse_key("hex:" + text) == (as_hex,)


def test_it_pads_to_whole_blocks_with_a_pad_free_of_separators() -> None:
    key = b"0123456789abcdef"
    for size in range(0, 40):
        rest = "]" + "x" * size
        plain = _plain(key, encrypt(key, rest))
        pad, _, after = plain.partition("|")
        assert after == rest and len(plain) % 16 == 0
        assert 1 <= len(pad) <= 16 and not set(pad) & set("|[]")


def test_it_adds_a_whole_block_when_already_aligned() -> None:
    key = b"0123456789abcdef"
    rest = "x" * 15  # with the |, 16: aligned, so a full 16 of pad
    assert len(_plain(key, encrypt(key, rest))) == 32


def test_it_reads_a_plaintext_without_bar_before_an_empty_data_block() -> None:
    # An encrypted link test as sent by a panel: `ppppppppppp]_18:24:52,07-05-2020`.
    sealed = "B4BC8B40D0E6D959D6BEA78E88CC0B2155741A3C44FBB96D476A3E557CAD64D9"
    assert decrypt((b"A" * 16,), sealed)[1] == "]_18:24:52,07-05-2020"


@pytest.mark.parametrize("sealed", ["XYZ", "ABC", "00" * 15, "00" * 16])
def test_it_refuses_what_no_key_reads(sealed: str) -> None:
    with pytest.raises(Undecryptable):
        decrypt((b"0123456789abcdef",), sealed)


def test_it_refuses_a_message_sealed_with_another_key() -> None:
    sealed = encrypt(b"0123456789abcdef", REST)
    with pytest.raises(Undecryptable):
        decrypt((b"fedcba9876543210",), sealed)


@pytest.mark.parametrize("key", ["short", "x" * 17, "hex:0011", "g" * 48, "é" * 16])
def test_it_refuses_keys_of_the_wrong_size_or_alphabet(key: str) -> None:
    with pytest.raises(BadKey):
        parse_key(key)


def _plain(key: bytes, sealed: str) -> str:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).decryptor()
    return (decryptor.update(bytes.fromhex(sealed)) + decryptor.finalize()).decode()
