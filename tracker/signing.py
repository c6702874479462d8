"""Signed object tokens: let a page count or read one object, and no other.

``{% tracker_object obj %}`` puts a token in the page; the track endpoint
counts a view of exactly that object and label, and the counts endpoint reads
its counts. A client cannot forge a token for another content type or id.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db import models

from tracker.counters import object_counter
from tracker.keys import Counter

SALT = "tracker.object"


def object_token(obj: models.Model | tuple[str, Any], label: str = "view") -> str:
    """A signed, URL-safe token naming ``obj`` and ``label``."""
    counter = object_counter(obj, label)
    return signing.dumps(
        [counter.model, counter.object_id, counter.label], salt=SALT, compress=True
    )


def read_object_token(token: str) -> Counter:
    """The counter a token names; raises ``django.core.signing.BadSignature``."""
    if not isinstance(token, str) or len(token) > 1024:
        raise signing.BadSignature("not a tracker object token")
    try:
        model, object_id, label = signing.loads(token, salt=SALT)
    except (TypeError, ValueError) as error:
        raise signing.BadSignature("malformed tracker object token") from error
    return object_counter((model, object_id), label)
