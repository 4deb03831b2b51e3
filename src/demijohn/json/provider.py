"""The JSON provider: the object behind :attr:`Demijohn.json <demijohn.Demijohn.json>`.

Every JSON operation the framework performs (:func:`~demijohn.json.jsonify`,
returning a dict or list from a view, :meth:`Request.get_json`, the
``demijohn.json`` helpers inside an app context) goes through the app's
provider. Replacing it is how an application changes JSON behaviour: set
:attr:`~demijohn.Demijohn.json_provider_class` on a subclass of the app, or
assign an instance to ``app.json``.

This module does no IO of its own and reads no global state; it only needs
the app it was created for.
"""

from __future__ import annotations

import dataclasses
import decimal
import json
import json.encoder
import typing as t
import uuid
import weakref
from datetime import date

from werkzeug.http import http_date
from werkzeug.wrappers import Response

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from ..app import Demijohn

__all__ = ["DefaultJSONProvider", "JSONProvider"]


class JSONProvider:
    """The set of JSON operations an application uses.

    Subclass it to plug in another JSON library: implementing :meth:`dumps`
    and :meth:`loads` is enough, since :meth:`dump`, :meth:`load` and
    :meth:`response` are built on those two.

    The application creates its provider once, when the app is created, from
    :attr:`~demijohn.Demijohn.json_provider_class`; assign an instance to
    ``app.json`` to replace it afterwards.

    :param app: The application this provider serves. It is kept as a
        :func:`weakref.proxy` in :attr:`_app`, so the provider does not keep
        the app alive.

    .. versionadded:: 0.1
    """

    def __init__(self, app: Demijohn) -> None:
        # A proxy rather than a strong reference: the app owns the provider,
        # and a strong reference back would make a reference cycle.
        self._app: Demijohn = t.cast("Demijohn", weakref.proxy(app))

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string.

        Subclasses must implement this; the base class raises
        :exc:`NotImplementedError`.

        :param obj: The value to serialize.
        :param kwargs: Options for the underlying JSON library.
        :return: The JSON text.
        :raise TypeError: In implementations, when ``obj`` holds a value
            that cannot be serialized.
        """
        raise NotImplementedError

    def dump(self, obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
        """Serialize ``obj`` as JSON and write it to a text file.

        Calls :meth:`dumps` and writes the result, so a subclass that
        implements :meth:`dumps` gets this for free.

        :param obj: The value to serialize.
        :param fp: A file opened for writing text; use UTF-8 so the output
            is valid JSON.
        :param kwargs: Passed on to :meth:`dumps`.
        """
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Parse a JSON document.

        Subclasses must implement this; the base class raises
        :exc:`NotImplementedError`.

        :param s: The document, as text or UTF-8 bytes.
        :param kwargs: Options for the underlying JSON library.
        :return: The parsed value.
        :raise ValueError: In implementations, when ``s`` is not valid JSON.
        """
        raise NotImplementedError

    def load(self, fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
        """Read a whole file and parse it as JSON.

        Calls :meth:`loads` on the file's contents.

        :param fp: A file opened for reading text or UTF-8 bytes.
        :param kwargs: Passed on to :meth:`loads`.
        :return: The parsed value.
        """
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> t.Any:
        """Turn :meth:`response` arguments into the one value to serialize.

        One positional argument is used as it is, several become a list,
        keyword arguments become a dict, and no arguments give ``None``.

        :raise TypeError: If both positional and keyword arguments are given,
            since there is no single value they could mean.
        """
        if args and kwargs:
            raise TypeError("app.json.response() takes either args or kwargs, not both")
        if kwargs:
            return kwargs
        if not args:
            return None
        if len(args) == 1:
            return args[0]
        return list(args)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Serialize the arguments and wrap them in a JSON response.

        :func:`~demijohn.json.jsonify` calls this on the current app's
        provider. Pass either positional or keyword arguments: one
        positional argument is serialized as is, several as a list, keyword
        arguments as an object, and nothing as ``null``.

        :return: An instance of the app's
            :attr:`~demijohn.Demijohn.response_class` with the
            ``application/json`` mimetype.
        :raise TypeError: If both positional and keyword arguments are
            given.
        """
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype="application/json")


# The decoder json.loads() uses when given no options, and the first bytes
# of a document it would decode as UTF-8 without looking further.
_DECODER = json.JSONDecoder()
_UTF8_JSON_STARTS = frozenset({b"{", b"["})

#: The :func:`json.dumps` options :func:`_encoder` can cache an encoder for.
_ENCODER_OPTIONS = frozenset(
    {"default", "ensure_ascii", "sort_keys", "separators", "indent"}
)
_ENCODERS: dict[tuple[t.Any, ...], t.Callable[[t.Any], str]] = {}


def _encoder(
    default: t.Callable[[t.Any], t.Any] | None = None,
    ensure_ascii: bool = True,
    sort_keys: bool = False,
    separators: tuple[str, str] | None = None,
    indent: int | str | None = None,
) -> t.Callable[[t.Any], str]:
    """The ``encode`` method of the encoder :func:`json.dumps` would build
    for these options, or a function giving the same text.

    PERF: given any option, :func:`json.dumps` builds a new
    :class:`json.JSONEncoder` for every call, which costs as much as
    encoding a small document. An encoder keeps no state between
    :meth:`~json.JSONEncoder.encode` calls (it is safe to share between
    threads), so one per combination of options gives the same text.
    """
    key = (default, ensure_ascii, sort_keys, separators, indent)
    encode = _ENCODERS.get(key)
    if encode is None:
        encode = _fast_encode(
            json.JSONEncoder(
                default=default,
                ensure_ascii=ensure_ascii,
                sort_keys=sort_keys,
                separators=separators,
                indent=indent,
            )
        )
        # Bounded: a provider made per request would otherwise add forever.
        if len(_ENCODERS) >= 32:
            _ENCODERS.clear()
        _ENCODERS[key] = encode
    return encode


def _fast_encode(encoder: json.JSONEncoder) -> t.Callable[[t.Any], str]:
    """``encoder.encode``, with the set-up of its C encoder done once.

    PERF: :meth:`~json.JSONEncoder.encode` makes a C encoder (and a
    closure it does not use) for every call, about a third of encoding a
    small document. The C encoder's only state is the ``markers`` dict that
    detects circular references, so a fresh one per call is all it needs.
    Without the C accelerator, or with ``indent``, where :mod:`json` uses
    its Python encoder, this is ``encoder.encode`` itself.
    """
    # Not in typeshed: json.encoder's own name for the C accelerator.
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None or encoder.indent is not None:
        return encoder.encode
    if encoder.ensure_ascii:
        quote = json.encoder.encode_basestring_ascii
    else:
        quote = json.encoder.encode_basestring
    options = (
        encoder.default,
        quote,
        None,  # indent
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    check_circular = encoder.check_circular

    def encode(o: t.Any) -> str:
        if isinstance(o, str):
            return quote(o)
        markers: dict[int, t.Any] | None = {} if check_circular else None
        return "".join(make_encoder(markers, *options)(o, 0))

    return encode


def _default(o: t.Any) -> t.Any:
    """Convert a value :mod:`json` does not know into one it does.

    :raise TypeError: Naming the type, when ``o`` is not one of the
        supported extra types.
    """
    # datetime is a subclass of date, so this one check covers both.
    if isinstance(o, date):
        return http_date(o)
    if isinstance(o, (decimal.Decimal, uuid.UUID)):
        return str(o)
    # is_dataclass is also true for dataclass *types*; only instances can be
    # converted, and a class falls through to the TypeError below.
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class DefaultJSONProvider(JSONProvider):
    """The provider an application uses unless told otherwise.

    It uses Python's :mod:`json` module and, through :attr:`default`, also
    serializes:

    - :class:`datetime.date` and :class:`datetime.datetime`, as HTTP date
      strings (:rfc:`822` format, via :func:`werkzeug.http.http_date`);
    - :class:`decimal.Decimal` and :class:`uuid.UUID`, as strings;
    - dataclass instances, via :func:`dataclasses.asdict`;
    - objects with an ``__html__`` method, such as
      :class:`markupsafe.Markup`, as the string it returns.

    Change behaviour by subclassing and overriding the class attributes
    below, then setting :attr:`~demijohn.Demijohn.json_provider_class`.

    .. versionadded:: 0.1
    """

    #: Called by :func:`json.dumps` for any value it cannot serialize. It
    #: must return something JSON can serialize or raise :exc:`TypeError`.
    #: Replace it with a :func:`staticmethod` in a subclass to support more
    #: types.
    default: t.Callable[[t.Any], t.Any] = staticmethod(_default)

    #: Escape non-ASCII characters as ``\uXXXX``. Turn off for shorter
    #: output when every client handles UTF-8.
    ensure_ascii = True

    #: Sort object keys, so equal data always gives the same text (useful
    #: for caching and ETags). All keys must then be strings. Turn off to
    #: save time or keep insertion order.
    sort_keys = True

    #: Layout of :meth:`response` output. ``True`` gives no whitespace;
    #: ``False`` indents by two spaces; ``None`` (the default) indents only
    #: when the app is in debug mode.
    compact: bool | None = None

    #: The mimetype :meth:`response` gives its responses.
    mimetype = "application/json"

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string with :func:`json.dumps`.

        :attr:`default`, :attr:`ensure_ascii` and :attr:`sort_keys` are used
        unless the matching keyword argument is given.

        :param obj: The value to serialize.
        :param kwargs: Passed to :func:`json.dumps`.
        :return: The JSON text.
        :raise TypeError: When ``obj`` holds a value :attr:`default` cannot
            convert.
        """
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        if kwargs.keys() <= _ENCODER_OPTIONS:
            try:
                encode = _encoder(**kwargs)
            except TypeError:
                pass  # an unhashable option value: no cached encoder
            else:
                return encode(obj)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Parse a JSON document with :func:`json.loads`.

        :param s: The document, as text or UTF-8 bytes.
        :param kwargs: Passed to :func:`json.loads`.
        :return: The parsed value.
        :raise json.JSONDecodeError: When ``s`` is not valid JSON (a
            subclass of :exc:`ValueError`).
        :raise ValueError: When ``s`` nests arrays or objects too deeply to
            parse, so a hostile request body is a 400, not a 500.
        """
        try:
            if (
                not kwargs
                and type(s) is bytes
                and s[:1] in _UTF8_JSON_STARTS
                and s[1:2] not in (b"", b"\x00")
            ):
                # PERF: what json.loads() does for these bytes, minus
                # detecting the encoding: a document opening with "{" or
                # "[" and no NUL after it has no BOM and is not UTF-16/32,
                # so json.loads() would decode it as UTF-8.
                return _DECODER.decode(s.decode("utf-8", "surrogatepass"))
            return json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON document is nested too deeply.") from None

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Serialize the arguments and wrap them in a JSON response.

        Works like :meth:`JSONProvider.response`, and also: the body ends
        with a newline, the mimetype is :attr:`mimetype`, and the layout
        follows :attr:`compact` (indented in debug mode by default).

        :return: An instance of the app's
            :attr:`~demijohn.Demijohn.response_class`.
        :raise TypeError: If both positional and keyword arguments are
            given, or a value cannot be serialized.
        """
        body = self._response_text(self._prepare_response_obj(args, kwargs))
        response_class = self._app.response_class
        builds_plainly = getattr(response_class, "_builds_plainly", None)
        if builds_plainly is not None and builds_plainly():
            # PERF: the same response, built without Werkzeug's header checks.
            return response_class._from_text(body, self.mimetype)
        return response_class(body, mimetype=self.mimetype)

    def _response_text(self, obj: t.Any) -> str:
        """The body :meth:`response` sends for ``obj``."""
        cls = type(self)
        if (
            cls.dumps is DefaultJSONProvider.dumps
            and cls._layout_options is DefaultJSONProvider._layout_options
        ):
            # PERF: what dumps() does with the layout options, without
            # building and unpacking their keyword arguments.
            pretty = self.compact is False or (self.compact is None and self._app.debug)
            try:
                encode = _encoder(
                    self.default,
                    self.ensure_ascii,
                    self.sort_keys,
                    None if pretty else (",", ":"),
                    2 if pretty else None,
                )
            except TypeError:
                pass  # an unhashable option value: dumps() handles it
            else:
                return f"{encode(obj)}\n"
        return f"{self.dumps(obj, **self._layout_options())}\n"

    def _layout_options(self) -> dict[str, t.Any]:
        """Choose :func:`json.dumps` whitespace options from :attr:`compact`."""
        pretty = self.compact is False or (self.compact is None and self._app.debug)
        if pretty:
            return {"indent": 2}
        return {"separators": (",", ":")}
