"""Parsing and validating the label syntax (pure functions, no I/O).

A query is items joined by ``|``; an item is ``label``, ``label:category`` or
``label:category:dom_id``. The rules are documented in README.rst ("Label syntax").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from django.utils.translation import gettext as _

from tracker.conf import tracker_settings
from tracker.exceptions import InvalidLabel

ITEM_SEPARATOR = "|"
PART_SEPARATOR = ":"

# Column widths of Statistic; the first is the original django-tracker's.
MAX_LABEL_LENGTH = 250
MAX_CATEGORY_LENGTH = 64
MAX_DOM_ID_LENGTH = 128
MAX_OBJECT_ID_LENGTH = 255

_PART_LIMITS = {
    "label": MAX_LABEL_LENGTH,
    "category": MAX_CATEGORY_LENGTH,
    "dom_id": MAX_DOM_ID_LENGTH,
}
_MAX_ITEM_LENGTH = sum(_PART_LIMITS.values()) + 2


class Item(NamedTuple):
    """One parsed item of a query.

    ``category`` and ``dom_id`` are empty strings when the item leaves them out,
    so ``"signup"`` parses to ``Item("signup", "", "")``.
    """

    label: str
    category: str = ""
    dom_id: str = ""

    def __str__(self) -> str:
        return PART_SEPARATOR.join(self).rstrip(PART_SEPARATOR)


def _shown(text: str, limit: int = 60) -> str:
    """Quote user input for an error message, escaping control characters."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(text)


def _bad_character(text: str) -> str | None:
    """Return a description of the first character that is not allowed."""
    for char in text:
        if not char.isprintable():
            name = unicodedata.name(char, "")
            return f"U+{ord(char):04X}" + (f" {name}" if name else "")
    return None


def clean_part(
    value: str,
    kind: str,
    *,
    item: str | None = None,
    position: int | None = None,
    limit: int | None = None,
) -> str:
    """Validate one part (label, category, dom_id or object id) and return it.

    Whitespace around the part is removed; inside it, the ASCII space is allowed
    (except in a dom id, which HTML does not allow to contain whitespace). Text
    that is not NFC-normalised is normalised so that one label has one counter.
    """
    where = item if item is not None else value
    value = value.strip()
    limit = limit if limit is not None else _PART_LIMITS[kind]
    if len(value) > limit:
        raise InvalidLabel(
            _(
                "%(item)s: the %(kind)s is %(length)d characters long; "
                "at most %(limit)d are allowed."
            )
            % {
                "item": _shown(where),
                "kind": kind,
                "length": len(value),
                "limit": limit,
            },
            rule="too_long",
            item=item,
            position=position,
        )
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)
    if not value.isprintable():
        raise InvalidLabel(
            _(
                "%(item)s: the %(kind)s contains the control or invisible "
                "character %(char)s."
            )
            % {"item": _shown(where), "kind": kind, "char": _bad_character(value)},
            rule="control_character",
            item=item,
            position=position,
        )
    if kind == "dom_id" and any(char.isspace() for char in value):
        raise InvalidLabel(
            _("%(item)s: a dom id cannot contain whitespace.")
            % {"item": _shown(where)},
            rule="whitespace_in_dom_id",
            item=item,
            position=position,
        )
    return value


def parse_item(raw: str, position: int = 1) -> Item:
    """Parse one ``label[:category[:dom_id]]`` item."""
    if len(raw) > _MAX_ITEM_LENGTH:
        raise InvalidLabel(
            _(
                "Item %(position)d %(item)s is %(length)d characters long; "
                "at most %(limit)d are allowed."
            )
            % {
                "position": position,
                "item": _shown(raw),
                "length": len(raw),
                "limit": _MAX_ITEM_LENGTH,
            },
            rule="too_long",
            item=raw,
            position=position,
        )
    if not raw.strip():
        raise InvalidLabel(
            _("Item %(position)d is empty; remove the extra '|'.")
            % {"position": position},
            rule="empty_item",
            item=raw,
            position=position,
        )
    parts = raw.split(PART_SEPARATOR)
    if len(parts) > 3:
        raise InvalidLabel(
            _(
                "Item %(position)d %(item)s has %(count)d parts; at most 3 are "
                "allowed (label:category:dom_id)."
            )
            % {"position": position, "item": _shown(raw), "count": len(parts)},
            rule="too_many_parts",
            item=raw,
            position=position,
        )
    kinds = ("label", "category", "dom_id")
    cleaned = [
        clean_part(part, kind, item=raw, position=position)
        for part, kind in zip(parts, kinds, strict=False)
    ]
    if not cleaned[0]:
        raise InvalidLabel(
            _("Item %(position)d %(item)s has an empty label.")
            % {"position": position, "item": _shown(raw)},
            rule="empty_label",
            item=raw,
            position=position,
        )
    return Item(*cleaned)


def parse_query(
    query: str | Iterable[str], *, max_items: int | None = None
) -> list[Item]:
    """Parse a query such as ``"signup|clicked_buy:shop:buy-btn"`` into items.

    A list or tuple of item strings is accepted too (the JSON body of track/).
    The whole query is rejected with ``InvalidLabel`` if any item is bad, so a
    caller that counts the result counts all of it or nothing.
    """
    if max_items is None:
        max_items = tracker_settings.MAX_ITEMS
    if isinstance(query, str):
        if len(query) > max_items * (_MAX_ITEM_LENGTH + 1):
            raise InvalidLabel(
                _(
                    "The query is %(length)d characters long; "
                    "at most %(limit)d are allowed."
                )
                % {"length": len(query), "limit": max_items * (_MAX_ITEM_LENGTH + 1)},
                rule="too_long",
            )
        raw_items = query.split(ITEM_SEPARATOR)
    elif isinstance(query, list | tuple):
        if not all(isinstance(raw, str) for raw in query):
            raise InvalidLabel(
                _("Every item of the query must be a string."), rule="not_a_string"
            )
        raw_items = list(query)
        if len(raw_items) == 0:
            raise InvalidLabel(_("The query has no items."), rule="empty_item")
    else:
        raise InvalidLabel(
            _("The query must be a string such as 'label:category:dom_id|other'."),
            rule="not_a_string",
        )
    if len(raw_items) > max_items:
        raise InvalidLabel(
            _("The query has %(count)d items; at most %(limit)d are allowed.")
            % {"count": len(raw_items), "limit": max_items},
            rule="too_many_items",
        )
    return [parse_item(raw, position) for position, raw in enumerate(raw_items, 1)]


def parse_dom_ids(query: str, *, max_ids: int) -> list[str]:
    """Parse ``"a|b|c|"`` from get_stats/: empty entries and repeats are dropped."""
    raw_ids = query.split(ITEM_SEPARATOR)
    seen: dict[str, None] = {}
    for position, raw in enumerate(raw_ids, 1):
        if not raw.strip():
            continue
        dom_id = clean_part(raw, "dom_id", item=raw, position=position)
        seen[dom_id] = None
        if len(seen) > max_ids:
            raise InvalidLabel(
                _("At most %(limit)d dom ids may be asked for at once.")
                % {"limit": max_ids},
                rule="too_many_items",
            )
    return list(seen)
