"""Tagged JSON: lossless JSON for a few Python types plain JSON lacks.

:class:`~demijohn.sessions.SecureCookieSessionInterface` serializes the
session with :class:`TaggedJSONSerializer`; the format is Flask's, so a
session cookie written by one framework is read by the other.

A value JSON cannot hold natively is written as a one-key object whose key
is a *tag* and whose value is a JSON-safe form of the data, for example a
tuple ``(1, 2)`` becomes ``{" t": [1, 2]}``. Tag keys start with a space
so they rarely clash with real keys; a real one-key dict whose key happens
to be a tag is itself wrapped (see :class:`TagDict`).

Support another type by subclassing :class:`JSONTag` and registering it.
This one keeps :class:`~collections.OrderedDict` order by storing pairs;
it goes first because the dict tags would otherwise claim the value::

    from collections import OrderedDict

    from demijohn.json.tag import JSONTag


    class TagOrderedDict(JSONTag):
        __slots__ = ()
        key = " od"

        def check(self, value):
            return isinstance(value, OrderedDict)

        def to_json(self, value):
            return [[k, self.serializer.tag(v)] for k, v in value.items()]

        def to_python(self, value):
            return OrderedDict(value)


    app.session_interface.serializer.register(TagOrderedDict, index=0)
"""

from __future__ import annotations

import typing as t
from base64 import b64decode, b64encode
from datetime import datetime
from uuid import UUID

from markupsafe import Markup
from werkzeug.http import http_date, parse_date

from . import dumps as dumps
from . import loads as loads

__all__ = [
    "JSONTag",
    "PassDict",
    "PassList",
    "TagBytes",
    "TagDateTime",
    "TagDict",
    "TagMarkup",
    "TagTuple",
    "TagUUID",
    "TaggedJSONSerializer",
]


class JSONTag:
    """One kind of value :class:`TaggedJSONSerializer` knows how to write.

    Subclass it, set :attr:`key`, and implement :meth:`check`,
    :meth:`to_json` and :meth:`to_python`; then pass the class to
    :meth:`TaggedJSONSerializer.register`. Nested values should be passed
    back through ``self.serializer.tag`` so that they are tagged too.
    """

    __slots__ = ("serializer",)

    #: The marker written as the only key of the tagged object. An empty
    #: key makes a *pass-through* tag: it rewrites the value's children but
    #: adds no wrapper, and it is never looked up when loading.
    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        """Bind the tag to the serializer that uses it.

        Called by :meth:`TaggedJSONSerializer.register`.

        :param serializer: The serializer, used to tag nested values.
        """
        self.serializer = serializer

    def check(self, value: t.Any) -> bool:
        """Tell whether this tag handles ``value``.

        Called for each value being tagged, in the serializer's tag order;
        the first tag that says yes wins.

        :raise NotImplementedError: In the base class.
        """
        raise NotImplementedError

    def to_json(self, value: t.Any) -> t.Any:
        """Turn ``value`` into something :func:`json.dumps` accepts.

        Called by :meth:`tag` once :meth:`check` accepted the value. Do not
        add the tag key; :meth:`tag` does that.

        :raise NotImplementedError: In the base class.
        """
        raise NotImplementedError

    def to_python(self, value: t.Any) -> t.Any:
        """Rebuild the Python value from its JSON form.

        Called while loading, with the tag key already removed and any
        nested tagged values already restored.

        :raise NotImplementedError: In the base class.
        """
        raise NotImplementedError

    def tag(self, value: t.Any) -> dict[str, t.Any]:
        """Return ``value`` in its JSON form, wrapped as ``{key: ...}``.

        :param value: A value :meth:`check` accepted.
        """
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """Protect a one-key dict whose key is a registered tag key.

    Without this, ``{" t": [1]}`` stored by the user would load back as the
    tuple ``(1,)``. The key gets two underscores appended and the dict is
    wrapped in ``" di"``; loading strips them again.
    """

    __slots__ = ()
    key = " di"

    def check(self, value: t.Any) -> bool:
        """Accept a dict with exactly one key that is a registered tag key."""
        return (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in self.serializer.tags
        )

    def to_json(self, value: t.Any) -> t.Any:
        """Rename the single key to ``key + "__"`` and tag its value."""
        key, item = next(iter(value.items()))
        return {f"{key}__": self.serializer.tag(item)}

    def to_python(self, value: t.Any) -> t.Any:
        """Drop the two-underscore suffix from the single key."""
        key, item = next(iter(value.items()))
        return {key[:-2]: item}


class PassDict(JSONTag):
    """Tag the values of any other dict, leaving the dict itself unwrapped."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        """Accept any dict."""
        return isinstance(value, dict)

    def to_json(self, value: t.Any) -> t.Any:
        """Return a new dict with each value tagged.

        Keys are left alone: JSON object keys are strings anyway.
        """
        return {k: self.serializer.tag(v) for k, v in value.items()}

    def tag(self, value: t.Any) -> t.Any:
        """Same as :meth:`to_json`; a pass-through tag adds no wrapper."""
        return self.to_json(value)


class TagTuple(JSONTag):
    """Write a tuple as a list under ``" t"`` so it loads back as a tuple."""

    __slots__ = ()
    key = " t"

    def check(self, value: t.Any) -> bool:
        """Accept any tuple (named tuples load back as plain tuples)."""
        return isinstance(value, tuple)

    def to_json(self, value: t.Any) -> t.Any:
        """Return a list of the tagged items."""
        return [self.serializer.tag(item) for item in value]

    def to_python(self, value: t.Any) -> t.Any:
        """Return the items as a tuple."""
        return tuple(value)


class PassList(JSONTag):
    """Tag the items of a list, leaving the list itself unwrapped."""

    __slots__ = ()

    def check(self, value: t.Any) -> bool:
        """Accept any list."""
        return isinstance(value, list)

    def to_json(self, value: t.Any) -> t.Any:
        """Return a new list of the tagged items."""
        return [self.serializer.tag(item) for item in value]

    def tag(self, value: t.Any) -> t.Any:
        """Same as :meth:`to_json`; a pass-through tag adds no wrapper."""
        return self.to_json(value)


class TagBytes(JSONTag):
    """Write :class:`bytes` as standard base64 text under ``" b"``."""

    __slots__ = ()
    key = " b"

    def check(self, value: t.Any) -> bool:
        """Accept :class:`bytes` (not ``bytearray``)."""
        return isinstance(value, bytes)

    def to_json(self, value: t.Any) -> t.Any:
        """Return the base64 text of the bytes."""
        return b64encode(value).decode("ascii")

    def to_python(self, value: t.Any) -> t.Any:
        """Decode the base64 text back to bytes."""
        return b64decode(value)


class TagMarkup(JSONTag):
    """Write any object with an ``__html__`` method under ``" m"``.

    The stored text is the result of ``__html__()``; it always loads back as
    :class:`~markupsafe.Markup`, whatever the original class was.
    """

    __slots__ = ()
    key = " m"

    def check(self, value: t.Any) -> bool:
        """Accept objects with a callable ``__html__`` attribute."""
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: t.Any) -> t.Any:
        """Return the object's HTML text."""
        return str(value.__html__())

    def to_python(self, value: t.Any) -> t.Any:
        """Return the text as safe :class:`~markupsafe.Markup`."""
        return Markup(value)


class TagUUID(JSONTag):
    """Write a :class:`~uuid.UUID` as its 32-digit hex under ``" u"``."""

    __slots__ = ()
    key = " u"

    def check(self, value: t.Any) -> bool:
        """Accept :class:`~uuid.UUID` instances."""
        return isinstance(value, UUID)

    def to_json(self, value: t.Any) -> t.Any:
        """Return the UUID's hex digits, without dashes."""
        return value.hex

    def to_python(self, value: t.Any) -> t.Any:
        """Parse the hex digits back into a :class:`~uuid.UUID`."""
        return UUID(value)


class TagDateTime(JSONTag):
    """Write a :class:`~datetime.datetime` as an HTTP date under ``" d"``.

    The HTTP date format keeps whole seconds only, and a naive datetime is
    taken to be UTC. It loads back as an aware datetime in UTC.
    """

    __slots__ = ()
    key = " d"

    def check(self, value: t.Any) -> bool:
        """Accept :class:`~datetime.datetime` instances."""
        return isinstance(value, datetime)

    def to_json(self, value: t.Any) -> t.Any:
        """Format the datetime with :func:`werkzeug.http.http_date`."""
        return http_date(value)

    def to_python(self, value: t.Any) -> t.Any:
        """Parse the date with :func:`werkzeug.http.parse_date`."""
        return parse_date(value)


#: The tags of a new serializer, in the order :meth:`TaggedJSONSerializer.tag`
#: tries them; the shortcut for plain JSON values relies on exactly these.
_STOCK_ORDER = (
    TagDict,
    PassDict,
    TagTuple,
    PassList,
    TagBytes,
    TagMarkup,
    TagUUID,
    TagDateTime,
)

#: The exact types JSON writes natively and no stock tag accepts.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})

#: How many levels of dicts and lists the plain-value check looks into;
#: deeper values take the tagging path, which is also where a value too
#: deep to serialize fails, as it always did.
_PLAIN_DEPTH = 16


class TaggedJSONSerializer:
    """Dump and load JSON that round-trips extra Python types.

    Besides the JSON types it keeps :class:`tuple`, :class:`bytes`,
    :class:`~markupsafe.Markup` (and anything with ``__html__``),
    :class:`~uuid.UUID`, :class:`~datetime.datetime`, and one-key dicts
    whose key looks like a tag. It has the ``dumps``/``loads`` pair
    :mod:`itsdangerous` expects of a serializer, which is how the session
    cookie uses it.
    """

    __slots__ = ("order", "tags")

    #: The tag classes every new serializer registers, in this order. The
    #: order matters: the first tag whose :meth:`~JSONTag.check` accepts a
    #: value handles it, so special cases come before general ones.
    default_tags: t.ClassVar[list[type[JSONTag]]] = list(_STOCK_ORDER)

    def __init__(self) -> None:
        """Create a serializer with :attr:`default_tags` registered."""
        #: Tags by key, used when loading. Pass-through tags are not here.
        self.tags: dict[str, JSONTag] = {}
        #: Tags in the order they are tried when dumping.
        self.order: list[JSONTag] = []
        for tag_class in self.default_tags:
            self.register(tag_class)

    def register(
        self,
        tag_class: type[JSONTag],
        force: bool = False,
        index: int | None = None,
    ) -> None:
        """Add a tag to this serializer.

        :param tag_class: The :class:`JSONTag` subclass; it is instantiated
            with this serializer.
        :param force: Replace a tag already registered under the same key
            instead of failing. The old tag stays in the order but is no
            longer used for loading.
        :param index: Where to insert the tag in the order tried when
            dumping. ``None`` appends it; use ``0`` for a special case of a
            type an existing tag already accepts.
        :raise KeyError: When the key is already registered and ``force``
            is false.
        """
        tag = tag_class(self)
        if tag.key:
            if tag.key in self.tags and not force:
                raise KeyError(f"Tag '{tag.key}' is already registered.")
            self.tags[tag.key] = tag
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)

    def tag(self, value: t.Any) -> t.Any:
        """Return ``value`` in tagged, JSON-safe form.

        The first tag in :attr:`order` that accepts the value converts it;
        a value no tag accepts is returned unchanged.
        """
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, t.Any]) -> t.Any:
        """Turn one tagged object back into its Python value.

        Its contents must already be untagged. A dict that is not a
        one-key object with a registered tag key is returned unchanged.
        """
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        if tag is None:
            return value
        return tag.to_python(value[key])

    def _untag_scan(self, value: t.Any) -> t.Any:
        """Untag a loaded JSON value and everything inside it.

        Works innermost first, so each tag's :meth:`~JSONTag.to_python`
        receives values that are already Python objects.
        """
        if isinstance(value, dict):
            return self.untag({k: self._untag_scan(v) for k, v in value.items()})
        if isinstance(value, list):
            return [self._untag_scan(item) for item in value]
        return value

    def _tags_leave_plain_values_alone(self) -> bool:
        """Tell whether :meth:`tag` returns JSON-native values unchanged.

        True when exactly the stock tags are registered, in their stock
        order, and :meth:`tag` is not overridden: then no tag accepts a
        :class:`str`, number, boolean or ``None``, and dicts and lists are
        only copied, except a one-key dict whose key is a tag key.
        """
        return (
            type(self).tag is TaggedJSONSerializer.tag
            and tuple(map(type, self.order)) == _STOCK_ORDER
        )

    def _is_plain(self, value: t.Any, depth: int = _PLAIN_DEPTH) -> bool:
        """Tell whether ``value`` is built only of JSON's own types.

        Exact types only (a :class:`str` subclass such as
        :class:`~markupsafe.Markup` is tagged), no one-key dict whose key is
        a registered tag key, and no deeper than ``depth`` levels.
        """
        kind = type(value)
        if kind in _PLAIN_TYPES:
            return True
        if depth == 0:
            return False
        items: t.Iterable[t.Any]
        if kind is dict:
            if len(value) == 1 and next(iter(value)) in self.tags:
                return False
            items = value.values()
        elif kind is list:
            items = value
        else:
            return False
        for item in items:
            if type(item) not in _PLAIN_TYPES and not self._is_plain(item, depth - 1):
                return False
        return True

    def dumps(self, value: t.Any) -> str:
        """Tag ``value`` and dump it to compact JSON text.

        Uses :func:`demijohn.json.dumps`, so inside an application context
        the app's JSON provider writes the text.

        :raise TypeError: When the value holds something neither a tag nor
            the JSON provider can serialize.
        """
        # PERF: tagging a value made only of JSON's own types rebuilds each
        # dict and list with the same keys and values, so the text is the
        # same when that copy is skipped (the usual session: ids, counters,
        # strings). Anything else, or custom tags, goes through tag().
        if not (self._tags_leave_plain_values_alone() and self._is_plain(value)):
            value = self.tag(value)
        return dumps(value, separators=(",", ":"))

    def loads(self, value: str | bytes) -> t.Any:
        """Parse JSON text and restore any tagged values in it.

        :raise ValueError: When the text is not valid JSON, or a tagged
            value is malformed (bad base64 or UUID). A malformed date loads
            as ``None``, as :func:`werkzeug.http.parse_date` returns.
        """
        loaded = loads(value)
        # PERF: an object of plain values that is not itself a tagged
        # object would be copied unchanged by _untag_scan (a session of
        # ids, counters and strings); return it as it is.
        if type(loaded) is dict and self._is_flat_untagged(loaded):
            return loaded
        return self._untag_scan(loaded)

    def _is_flat_untagged(self, value: dict[t.Any, t.Any]) -> bool:
        """Tell whether :meth:`untag` would leave ``value`` as it is.

        True when it holds no containers, is not a tagged object, and
        neither :meth:`untag` nor the scan calling it is overridden.
        """
        cls = type(self)
        if (
            cls.untag is not TaggedJSONSerializer.untag
            or cls._untag_scan is not TaggedJSONSerializer._untag_scan
        ):
            return False
        if len(value) == 1 and next(iter(value)) in self.tags:
            return False
        return all(type(item) in _PLAIN_TYPES for item in value.values())
