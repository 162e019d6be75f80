"""DC-09 encryption: AES-CBC with an all-zero IV over `pad|data]xdata_timestamp`, sent as hex.

The key is 16, 24 or 32 characters used as their ASCII bytes (AES-128/192/256), as DC-09 and most
panels do. A key of 32, 48 or 64 hex digits is also accepted as raw key bytes; 32 hex digits are
both a valid ASCII AES-256 key and a hex AES-128 key, so such a key tries both (a wrong key yields
no readable plaintext). Prefix `hex:` to mean hex only.
"""

from __future__ import annotations

import functools
import os
import re
import string

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from commonwatch.ingest.sia.parse import ParseError

IV = bytes(16)
BLOCK = 16
ASCII_KEY_LENGTHS = (16, 24, 32)
HEX_KEY_LENGTHS = (32, 48, 64)
_PAD_ALPHABET = (string.ascii_letters + string.digits).encode()
# Random bytes -> pad characters in one bytes.translate: byte b becomes _PAD_ALPHABET[b % 62].
_TO_PAD = bytes(_PAD_ALPHABET[b % len(_PAD_ALPHABET)] for b in range(256))
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")
_PLAIN = re.compile(r"[\x20-\x7e]*")
_PLAIN_BYTES = re.compile(rb"[\x20-\x7e]*")


class Undecryptable(ParseError):
    """An encrypted message no configured key can read: answered `NAK`."""


class BadKey(ValueError):
    """A configured key of the wrong length or alphabet."""


def parse_key(text: str) -> tuple[bytes, ...]:
    """The AES keys a configured key string may mean, most likely first."""
    if text.startswith("hex:"):
        return (_hex_key(text[4:]),)
    candidates: list[bytes] = []
    if len(text) in ASCII_KEY_LENGTHS and _PLAIN.fullmatch(text):
        candidates.append(text.encode("ascii"))
    if len(text) in HEX_KEY_LENGTHS and _HEX.fullmatch(text):
        candidates.append(bytes.fromhex(text))
    if not candidates:
        raise BadKey(
            "an AES key is 16, 24 or 32 ASCII characters, or 32, 48 or 64 hex digits "
            f"(optionally prefixed hex:), got {len(text)} characters"
        )
    return tuple(candidates)


def _hex_key(text: str) -> bytes:
    if len(text) not in HEX_KEY_LENGTHS or not _HEX.fullmatch(text):
        raise BadKey("a hex: key is 32, 48 or 64 hex digits")
    return bytes.fromhex(text)


@functools.lru_cache(maxsize=4096)  # building one checks the key: 5 µs a frame saved, twice
def _cipher(key: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key), modes.CBC(IV))


def decrypt(keys: tuple[bytes, ...], hex_text: str) -> tuple[bytes, str]:
    """(the key that worked, `data]xdata_timestamp`) from the hex after the data block's `[`."""
    if not _HEX.fullmatch(hex_text) or len(hex_text) % (2 * BLOCK):
        raise Undecryptable("encrypted content is not hex in whole 16-byte blocks")
    ciphertext = bytes.fromhex(hex_text)
    for key in keys:
        decryptor = _cipher(key).decryptor()
        rest = _after_pad(decryptor.update(ciphertext) + decryptor.finalize())
        if rest is not None:
            return key, rest
    raise Undecryptable("no configured key decrypts this message")


def _after_pad(plain: bytes) -> str | None:
    """The text after `pad|`, when `plain` looks like a DC-09 plaintext; else None.

    Some panels leave out the `|` when the data is empty (a link test reads `pad]_time`): the
    data then starts at the first `]`.
    """
    if not _PLAIN_BYTES.fullmatch(plain):
        return None
    text = plain.decode("ascii")
    bar = text.find("|")
    end = text.find("]")
    if end < 0 or "[" in text[: min(bar if bar >= 0 else end, end)]:
        return None
    return text[end:] if bar < 0 or bar > end else text[bar + 1 :]


def random_pad(size: int) -> str:
    return os.urandom(size).translate(_TO_PAD).decode()


def encrypt(key: bytes, rest: str, *, pad: str | None = None) -> str:
    """Hex of `pad|rest`, the pad sized so the whole is a multiple of 16 (16 more if aligned).
    The pad is random unless `pad` gives characters to repeat (for tests)."""
    size = BLOCK - (len(rest) + 1) % BLOCK
    if pad and set(pad) & set("|[]"):
        raise ValueError("a pad may not contain |, [ or ]")
    filler = (pad * size)[:size] if pad else random_pad(size)
    encryptor = _cipher(key).encryptor()
    plain = f"{filler}|{rest}".encode("ascii")
    return (encryptor.update(plain) + encryptor.finalize()).hex().upper()
