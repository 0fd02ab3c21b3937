"""Paging tokens for the JSON API: opaque, authenticated and encrypted.

A token carries where a page starts (a row's sort value and internal `id`, and how many rows
stand before it), so it is encrypted as well as signed: Fernet (AES-128-CBC with HMAC-SHA256,
from `cryptography`) under
a key derived from Datasette's secret with HKDF. Replicas that share the secret accept each
other's tokens and keep no state. A token is bound to the organisation and filters it was
minted for, so it cannot be replayed against another organisation or other filters.
"""

import base64
import json
import re
from dataclasses import dataclass
from typing import Optional

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..engine.schema import EXPORTED_COLUMNS
from ..engine.selection import DEFAULT_SORT, Position, Selection

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
    """What a token may be used with. The sort and the search, then the filters and the
    columns, are named only when they are not the defaults, so tokens minted before they
    existed stay valid. A filter is bound by what it means (`platform` and `platform__exact`
    are one), through JSON: tuples become lists, as they come back from a token."""
    binding = [selection.table, selection.org_id, selection.flagged]
    sort = selection.sort
    if sort != DEFAULT_SORT or selection.search is not None or _narrowed(selection):
        search = selection.search.term if selection.search else None
        binding += [sort.column, sort.descending, search]
    if _narrowed(selection):
        binding += [[list(f.key) for f in selection.filters], list(selection.columns)]
    return json.loads(json.dumps(binding))


def _narrowed(selection: Selection):
    return bool(selection.filters) or selection.columns != EXPORTED_COLUMNS


@dataclass(frozen=True)
class PageStart:
    """Where a page starts: just after `after` (None: the first page), or, walking back, as
    the page that ends with `before`; `offset` is how many rows stand before the page."""

    after: Optional[Position] = None
    before: Optional[Position] = None
    offset: int = 0


FIRST_PAGE = PageStart()


def _value_to_json(value):
    # A sort value is text, a number or NULL; a BLOB (which JSON cannot carry) goes as hex.
    return {"blob": value.hex()} if isinstance(value, bytes) else value


def _value_from_json(value):
    return bytes.fromhex(value["blob"]) if isinstance(value, dict) else value


def encode_token(key_material: bytes, selection: Selection, start: PageStart) -> str:
    """The token for the page that starts at `start`."""
    key = "after" if start.after is not None else "before"
    position = start.after if start.after is not None else start.before
    payload = {
        "for": _binding(selection),
        key: [_value_to_json(position.value), position.id],
        "n": start.offset,
    }
    token = _fernet(key_material).encrypt(
        json.dumps(payload, separators=(",", ":")).encode("utf-8")
    )
    return token.decode("ascii")


def _exactly_as_issued(token: str) -> bool:
    """Fernet's decoder reads base64 leniently (characters after the padding are ignored), so
    a token is checked to be its own canonical form first: one issued, byte for byte."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", token) or len(token) % 4:
        return False
    try:
        return base64.urlsafe_b64encode(base64.urlsafe_b64decode(token)).decode() == token
    except ValueError:
        return False


def decode_token(key_material: bytes, selection: Selection, token: str) -> PageStart:
    try:
        if not _exactly_as_issued(token):
            raise ValueError("not a token as issued")
        payload = json.loads(_fernet(key_material).decrypt(token.encode("ascii")))
        bound_to = payload["for"]
        key = "after" if "after" in payload else "before"
        value, id_ = payload[key]
        position = Position(value=_value_from_json(value), id=id_)
        offset = int(payload.get("n", 0))
    except (InvalidToken, UnicodeEncodeError, ValueError, KeyError, TypeError):
        raise TokenError(
            "_next is not a valid paging token: use the `next` or `prev` value of a previous "
            "page as it is"
        ) from None
    if bound_to != _binding(selection):
        raise TokenError(
            "_next was issued for another organisation or other filters: page with the same "
            "org_id, flagged, q, sort, column filters and columns as the page that gave it"
        )
    return PageStart(offset=offset, **{key: position})
