"""Type aliases for the values that views and hooks exchange with demijohn.

Annotate your own views and hooks with these so a type checker catches a
wrong return value before a request does. The names follow ``flask.typing``.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _typeshed.wsgi import WSGIApplication
    from werkzeug.datastructures import Headers
    from werkzeug.sansio.response import Response

#: A body a view may return: text, bytes, a JSON-able dict or list, or an
#: iterator of text or bytes that is streamed.
ResponseValue = t.Union[
    "Response",
    str,
    bytes,
    list[t.Any],
    t.Mapping[str, t.Any],
    t.Iterator[str],
    t.Iterator[bytes],
    cabc.AsyncIterable[str],
    cabc.AsyncIterable[bytes],
]

#: A header name.
HeaderName = str
#: A header value; several values for one name are given as a list.
HeaderValue = t.Union[str, list[str], tuple[str, ...]]

#: Headers a view may return beside its body.
HeadersValue = t.Union[
    "Headers",
    t.Mapping[HeaderName, HeaderValue],
    t.Sequence[tuple[HeaderName, HeaderValue]],
]

#: Everything a view, a ``before_request`` hook or an error handler may return.
ResponseReturnValue = t.Union[
    ResponseValue,
    tuple[ResponseValue, HeadersValue],
    tuple[ResponseValue, int],
    tuple[ResponseValue, int, HeadersValue],
    "WSGIApplication",
]

#: A response class or any subclass of Werkzeug's sans-IO response.
ResponseClass = t.TypeVar("ResponseClass", bound="Response")

#: Key of the per-blueprint registries: a blueprint name, or ``None`` for
#: the application itself.
AppOrBlueprintKey = t.Optional[str]

#: A view function, sync or async.
RouteCallable = t.Union[
    t.Callable[..., ResponseReturnValue],
    t.Callable[..., t.Awaitable[ResponseReturnValue]],
]
#: A WebSocket handler: an async function (it may return a response value
#: to refuse the connection before accepting it).
WebsocketHandlerCallable = t.Callable[..., t.Awaitable[t.Any]]
#: A ``before_request`` hook: returns ``None`` to go on, or a response value.
BeforeRequestCallable = t.Union[
    t.Callable[[], ResponseReturnValue | None],
    t.Callable[[], t.Awaitable[ResponseReturnValue | None]],
]
#: An ``after_request`` hook: takes the response and returns one.
AfterRequestCallable = t.Union[
    t.Callable[[ResponseClass], ResponseClass],
    t.Callable[[ResponseClass], t.Awaitable[ResponseClass]],
]
#: A ``teardown_request`` or ``teardown_appcontext`` callback: receives the
#: unhandled exception, or ``None``.
TeardownCallable = t.Union[
    t.Callable[[BaseException | None], None],
    t.Callable[[BaseException | None], t.Awaitable[None]],
]
#: A template context processor: returns a dict merged into the context.
TemplateContextProcessorCallable = t.Union[
    t.Callable[[], dict[str, t.Any]],
    t.Callable[[], t.Awaitable[dict[str, t.Any]]],
]
#: A Jinja filter.
TemplateFilterCallable = t.Callable[..., t.Any]
#: A Jinja global.
TemplateGlobalCallable = t.Callable[..., t.Any]
#: A Jinja test.
TemplateTestCallable = t.Callable[..., bool]
#: A ``url_defaults`` function: fills values in place for ``url_for``.
URLDefaultCallable = t.Callable[[str, dict[str, t.Any]], None]
#: A ``url_value_preprocessor``: may pop values from the matched view args.
URLValuePreprocessorCallable = t.Callable[[str | None, dict[str, t.Any] | None], None]
#: An error handler: takes the exception, returns a response value.
ErrorHandlerCallable = t.Union[
    t.Callable[[t.Any], ResponseReturnValue],
    t.Callable[[t.Any], t.Awaitable[ResponseReturnValue]],
]
#: A function run before an application's first request. Flask 2.3 removed
#: the hook that took it; the alias stays for code that annotates with it.
BeforeFirstRequestCallable = t.Union[
    t.Callable[[], None], t.Callable[[], t.Awaitable[None]]
]
#: A shell context processor: returns names to add to ``demijohn shell``.
ShellContextProcessorCallable = t.Callable[[], dict[str, t.Any]]
#: Any view-like callable that demijohn registers; used by decorators.
RouteDecorator = t.Callable[[RouteCallable], RouteCallable]
