"""Choosing a response's content coding from the request's Accept-Encoding (RFC 9110 12.5.3)."""

import re

from ..engine.compression import IDENTITY

# Accepted as its name, as HTTP/1.1 asks of servers.
ALIASES = {"x-gzip": "gzip"}
_QVALUE = re.compile(r"^(0(\.\d{0,3})?|1(\.0{0,3})?)$")


class NotAcceptable(Exception):
    """No coding the client accepts can be written."""


def _weights(header):
    """{coding: q} from an Accept-Encoding value; entries with a malformed q are left out."""
    weights = {}
    for entry in header.split(","):
        coding, *parameters = (part.strip() for part in entry.split(";"))
        coding = ALIASES.get(coding.lower(), coding.lower())
        if not coding:
            continue
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.match(value) else None
        if q is not None:
            weights[coding] = max(q, weights.get(coding, 0.0))
    return weights


def choose_encoding(header, available) -> str:
    """The coding to answer with: of those in `available` (best first) the one the client
    weighs highest, ties going to the better; else identity, unless the client refused it
    too (`identity;q=0`, or `*;q=0` without identity), when NotAcceptable.

    No header, or an empty one, asks for identity: every client understands it."""
    weights = _weights(header or "")
    anything = weights.get("*")
    offered = [
        (weights.get(coding, anything or 0.0), -rank, coding)
        for rank, coding in enumerate(available)
    ]
    best = max((choice for choice in offered if choice[0] > 0), default=None)
    if best is not None:
        return best[2]
    identity = weights.get(IDENTITY, 1.0 if anything is None else max(anything, 0.0))
    if IDENTITY not in weights and anything == 0:
        identity = 0.0
    if identity > 0:
        return IDENTITY
    acceptable = ", ".join(list(available) + [IDENTITY])
    raise NotAcceptable(
        f"None of the content codings this server writes ({acceptable}) is acceptable to the "
        f"request's Accept-Encoding: {header!r}; accept one of them, or leave the header out"
    )
