"""Paging tokens for the JSON API: opaque, authenticated and encrypted.

A token carries where the last page ended (a row's `created_at` and internal `id`), so it is
encrypted as well as signed: Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under
a key derived from Datasette's secret with HKDF. Replicas that share the secret accept each
other's tokens and keep no state. A token is bound to the organisation and filters it was
minted for, so it cannot be replayed against another organisation or other filters.
"""

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..engine.keyset import Position, Selection

_KEY_CONTEXT = b"datasette-seller-export paging token v1"


class TokenError(Exception):
    """A `_next` token that cannot be used; the message says why."""


def token_key(datasette) -> bytes:
    """Key material from Datasette's secret, through its public `sign()` (an HMAC of a
    constant under the secret: the same on every replica that shares the secret)."""
    return datasette.sign("paging-token-key", namespace="datasette-seller-export").encode("utf-8")


def _fernet(key_material: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_CONTEXT).derive(
        key_material
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _binding(selection: Selection):
    return [selection.table, selection.org_id, selection.flagged]


def encode_token(key_material: bytes, selection: Selection, position: Position) -> str:
    payload = {"for": _binding(selection), "after": [position.created_at, position.id]}
    token = _fernet(key_material).encrypt(
        json.dumps(payload, separators=(",", ":")).encode("utf-8")
    )
    return token.decode("ascii")


def decode_token(key_material: bytes, selection: Selection, token: str) -> Position:
    try:
        payload = json.loads(_fernet(key_material).decrypt(token.encode("ascii")))
        bound_to, (created_at, id_) = payload["for"], payload["after"]
    except (InvalidToken, UnicodeEncodeError, ValueError, KeyError, TypeError):
        raise TokenError(
            "_next is not a valid paging token: use the `next` value of a previous page as it is"
        ) from None
    if bound_to != _binding(selection):
        raise TokenError(
            "_next was issued for another organisation or other filters: "
            "page with the same org_id and flagged as the page that gave it"
        )
    return Position(created_at=created_at, id=id_)
