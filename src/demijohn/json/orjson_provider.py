"""A JSON provider backed by `orjson <https://github.com/ijl/orjson>`_, for
applications that opt in.

Install the extra (``pip install "demijohn[orjson]"``) and give the
application the provider::

    from demijohn.json.orjson_provider import ORJSONProvider

    app.json = ORJSONProvider(app)

or set :attr:`~demijohn.Demijohn.json_provider_class` on a subclass of the
application. Importing this module without orjson installed raises
:exc:`ImportError` saying what to install.

Dates, decimals, UUIDs, dataclasses and ``__html__`` objects come out as
with :class:`~demijohn.json.provider.DefaultJSONProvider`, through the same
:attr:`~demijohn.json.provider.DefaultJSONProvider.default`. Where orjson
cannot do what is asked, the provider hands the call to the :mod:`json`
module, so the result is the default provider's: options orjson lacks
(``ensure_ascii=True``, other indents or separators, any other keyword),
integers beyond 64 bits and circular references when serializing, and when
parsing, documents orjson refuses (``NaN``, lone surrogates, other
encodings than UTF-8) or holding a run of 19 digits, which could be an
integer orjson would read as a float.

What differs from the default provider, by design:

- :attr:`ensure_ascii` is off: non-ASCII text is sent as UTF-8.
- :meth:`dumps` writes no whitespace unless ``indent=2`` is asked for
  (responses follow :attr:`~demijohn.json.provider.DefaultJSONProvider.compact`
  as usual).
- ``NaN`` and infinities are written as ``null``, as orjson does; the
  :mod:`json` module writes ``NaN``, which is not JSON.
- Dict keys that are not strings are converted by orjson's rules, which
  also accept keys such as dates that :mod:`json` refuses, and with
  :attr:`sort_keys` are sorted as the text they become (:mod:`json` sorts
  them as they are, and refuses to sort keys of mixed types).
- :class:`enum.Enum` members are written as their values; :mod:`json`
  refuses members of enums that are not also ``int`` or ``str``.
"""

from __future__ import annotations

import typing as t

from .provider import DefaultJSONProvider

try:
    import orjson
except ImportError as error:  # pragma: no cover - only without the extra
    raise ImportError(
        "demijohn.json.orjson_provider needs the orjson package; install it"
        ' with: pip install "demijohn[orjson]"'
    ) from error

__all__ = ["ORJSONProvider"]

#: Always on: keys as :mod:`json` converts them, and dates and dataclasses
#: passed to ``default``, which formats them as the default provider does.
_BASE_OPTION = (
    orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)

#: The keyword arguments of :func:`json.dumps` an orjson option stands for.
_MAPPED_KEYWORDS = frozenset(
    {"default", "ensure_ascii", "sort_keys", "indent", "separators"}
)

#: An integer of 19 digits or more may not fit in 64 bits, and orjson reads
#: those as floats; a document with such a run is parsed by :mod:`json`.
#: PERF: every digit becomes a 9, and one substring search finds a run; a
#: regular expression trying each position costs more than orjson's parse.
_DIGITS_TO_NINES = bytes.maketrans(b"012345678", b"999999999")
_LONG_RUN = b"9" * 19


def _may_hold_long_integer(s: str | bytes) -> bool:
    """Whether ``s`` has a run of 19 digits, or is not ``str`` or ``bytes``
    (a bytearray, say), which :mod:`json` then parses."""
    if type(s) is str:
        s = s.encode("utf-8", "surrogatepass")
    elif type(s) is not bytes:
        return True
    return _LONG_RUN in s.translate(_DIGITS_TO_NINES)


class ORJSONProvider(DefaultJSONProvider):
    """Serializes with orjson, falling back to :mod:`json` where orjson
    cannot give the same result (see the module documentation).

    Its class attributes are those of
    :class:`~demijohn.json.provider.DefaultJSONProvider`, with
    :attr:`ensure_ascii` off.
    """

    #: Off: orjson writes non-ASCII text as UTF-8. Turning it on sends
    #: every call to the :mod:`json` module.
    ensure_ascii = False

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` with orjson, or with :func:`json.dumps` when the
        keyword arguments ask for something orjson cannot write.

        :raise TypeError: When ``obj`` holds a value :attr:`default` cannot
            convert.
        :raise ValueError: When ``obj`` contains itself.
        """
        option = self._orjson_option(kwargs)
        if option is None:
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(
                obj, default=kwargs.get("default", self.default), option=option
            ).decode()
        except orjson.JSONEncodeError:
            # An integer beyond 64 bits, a circular reference or a value
            # nothing can serialize: json serializes the first, and raises
            # for the others as the default provider does.
            pass
        if kwargs.get("indent") is None and kwargs.get("separators") is None:
            # orjson's layout, so the text does not depend on which library
            # wrote it.
            kwargs = {**kwargs, "separators": (",", ":")}
        return super().dumps(obj, **kwargs)

    def _orjson_option(self, kwargs: dict[str, t.Any]) -> int | None:
        """The orjson option for :func:`json.dumps` keyword arguments, or
        ``None`` when orjson cannot honour them."""
        if not kwargs.keys() <= _MAPPED_KEYWORDS:
            return None
        if kwargs.get("ensure_ascii", self.ensure_ascii):
            return None
        option = _BASE_OPTION
        indent = kwargs.get("indent")
        separators = kwargs.get("separators")
        if indent is not None:
            if indent != 2 or separators not in (None, (",", ": ")):
                return None
            option |= orjson.OPT_INDENT_2
        elif separators not in (None, (",", ":")):
            return None
        if kwargs.get("sort_keys", self.sort_keys):
            option |= orjson.OPT_SORT_KEYS
        return option

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Parse a JSON document with orjson, or with :func:`json.loads`
        when keyword arguments are given or orjson refuses the document or
        could read an integer in it as a float.

        :raise ValueError: When ``s`` is not valid JSON or nests too deeply.
        """
        if not kwargs and not _may_hold_long_integer(s):
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                pass  # json accepts more (NaN) or explains the error
        return super().loads(s, **kwargs)
