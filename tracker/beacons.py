"""Reading what a ``track/`` request asks to count, whatever its shape.

``GET ?labels=...`` (the original's form), and POST bodies: a form
(``labels=`` or ``object=``), JSON (``{"labels": "..."}``,
``{"labels": [...]}``, a bare list, or ``{"object": "<token>"}``) or plain
text (what ``navigator.sendBeacon`` sends for a string). No counting here:
:func:`read_beacon` only turns the request into a :class:`Beacon` or raises
:class:`BadBeacon` with the status and message to answer, and
:func:`counters_of_request` turns that into validated counters.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from tracker import guards
from tracker.conf import tracker_settings
from tracker.counters import label_counters
from tracker.exceptions import InvalidLabel
from tracker.keys import Counter
from tracker.labels import Item, parse_query
from tracker.signing import read_object_token

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
TEXT_TYPES = ("text/plain", "")


def syntax_help() -> str:
    """How to send labels, for the 400 answer to a request without any."""
    return _(
        "Send labels as ?labels=label[:category[:dom_id]]|other..., or POST them "
        'as a form field \'labels\', a JSON body {"labels": "..."} or a '
        "text/plain body; or POST a signed object token as 'object'."
    )


class BadBeacon(Exception):  # noqa: N818 - carries an HTTP answer, not a bug
    """A request ``track/`` cannot read; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Beacon:
    """What a request asks to count: a label query or one signed object token."""

    labels: Any = None
    token: Any = None


def read_beacon(request: HttpRequest) -> Beacon:
    """The beacon carried by ``request`` (GET or POST)."""
    limit = tracker_settings.MAX_BODY_SIZE
    if request.method == "GET":
        if len(request.META.get("QUERY_STRING", "")) > limit:
            raise BadBeacon(
                _("The query string is longer than %(limit)d bytes.")
                % {"limit": limit},
                status=414,
            )
        fields = _parsed(lambda: request.GET)
        return _checked(Beacon(labels=fields.get("labels")))
    return _checked(_read_body(request, limit))


def _parsed(read: Any) -> Any:
    """Django's lazy form parsing, with its errors turned into a 400."""
    try:
        return read()
    except (SuspiciousOperation, MultiPartParserError, ValueError) as error:
        raise BadBeacon(
            _("The request could not be parsed: %(error)s") % {"error": error}
        ) from error


def _read_body(request: HttpRequest, limit: int) -> Beacon:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    too_big = BadBeacon(
        _("The request body is larger than %(limit)d bytes.") % {"limit": limit},
        status=413,
    )
    if length > limit:
        raise too_big
    try:
        body = request.body
    except RequestDataTooBig as error:
        raise too_big from error
    except OSError as error:  # the client went away mid-body
        raise BadBeacon(_("The request body could not be read.")) from error
    if len(body) > limit:
        raise too_big
    content_type = (request.content_type or "").lower()
    if content_type in FORM_TYPES:
        fields = _parsed(lambda: request.POST)
        return Beacon(labels=fields.get("labels"), token=fields.get("object"))
    if content_type == "application/json" or content_type.endswith("+json"):
        return _from_json(_decoded(body, request.encoding))
    if content_type in TEXT_TYPES:
        return _from_text(_decoded(body, request.encoding))
    raise BadBeacon(
        _("Unsupported content type %(type)r: send a form, JSON or text/plain.")
        % {"type": content_type[:100]},
        status=415,
    )


def _decoded(body: bytes, encoding: str | None) -> str:
    try:
        return body.decode(codecs.lookup(encoding or "utf-8").name)
    except LookupError as error:
        raise BadBeacon(
            _("Unknown charset %(charset)r.") % {"charset": str(encoding)[:40]}
        ) from error
    except ValueError as error:  # UnicodeDecodeError, or a codec's own refusal
        raise BadBeacon(
            _("The request body is not valid %(charset)s text.")
            % {"charset": encoding or "UTF-8"}
        ) from error


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        # ValueError covers malformed JSON and integers too long to convert;
        # RecursionError deeply nested arrays.
        raise BadBeacon(_("The request body is not valid JSON.")) from error


def _from_json(text: str) -> Beacon:
    data = _json(text)
    if isinstance(data, list):
        return Beacon(labels=data)
    if isinstance(data, dict):
        return Beacon(labels=data.get("labels"), token=data.get("object"))
    raise BadBeacon(
        _('The JSON body must be an object such as {"labels": "..."} or a list.')
    )


def _from_text(text: str) -> Beacon:
    # sendBeacon(url, string) sends text/plain; a JSON text is read as JSON so
    # that clients unable to set a content type can still send an object token.
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return _from_json(stripped)
        except BadBeacon:
            pass  # a label that merely starts with a bracket
    return Beacon(labels=stripped or None)


def _checked(beacon: Beacon) -> Beacon:
    if beacon.labels is not None and beacon.token is not None:
        raise BadBeacon(_("Send either labels or an object token, not both."))
    if beacon.labels is None and beacon.token is None:
        raise BadBeacon(_("Missing labels.") + " " + syntax_help())
    if beacon.labels == "" or beacon.labels == []:
        raise BadBeacon(_("The labels are empty.") + " " + syntax_help())
    return beacon


# The parsed labels of recent valid GET query strings, with their counters. A
# site sends the same few queries over and over; a repeat skips reading the
# query string, validating the labels and building the counters (about a
# tenth of a beacon's CPU time, bench/README.md). Bounded, so that random
# queries cannot grow it without limit, and emptied whenever a setting changes.
_recent_queries: dict[str, tuple[list[Item], tuple[Counter, ...]]] = {}
_MAX_RECENT_QUERIES = 1024


def counters_of_request(
    request: HttpRequest,
) -> tuple[Sequence[Counter], bool, int | None]:
    """The counters a ``track/`` request asks for, whether to count the visitor
    too, and the cap on new counters that applies (None for signed objects).

    Raises :class:`BadBeacon`, ``InvalidLabel`` (also for a label outside
    ``TRACKER_ALLOWED_LABELS``) or ``BadSignature``.
    """
    query_string = request.META.get("QUERY_STRING", "")
    is_get = request.method == "GET"
    parsed = _recent_queries.get(query_string) if is_get else None
    if parsed is None:
        beacon = read_beacon(request)
        if beacon.token is not None:
            # The page was given this token by the server, so the object is
            # not subject to the cap on counters that anonymous clients create.
            counter = read_object_token(beacon.token)
            return [counter], tracker_settings.UNIQUE_VISITORS != "none", None
        items = parse_query(beacon.labels)
        parsed = (items, tuple(label_counters(items)))
        if is_get:
            if len(_recent_queries) >= _MAX_RECENT_QUERIES:
                _recent_queries.clear()
            _recent_queries[query_string] = parsed
    items, counters = parsed
    # Asked every time: a callable allow-list may change its mind.
    refused = guards.first_refused(items)
    if refused is not None:
        position, item = refused
        raise InvalidLabel(
            _(
                "Item %(position)d %(item)r: the label %(label)r is not in "
                "TRACKER_ALLOWED_LABELS."
            )
            % {"position": position, "item": str(item), "label": item.label},
            rule="not_allowed",
            item=str(item),
            position=position,
        )
    return (
        counters,
        tracker_settings.UNIQUE_VISITORS == "all",
        tracker_settings.MAX_NEW_COUNTERS_PER_DAY,
    )


@receiver(setting_changed)
def _forget_recent_queries(**kwargs: Any) -> None:
    _recent_queries.clear()
