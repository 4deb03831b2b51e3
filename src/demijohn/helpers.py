"""Functions views call: ``url_for``, ``redirect``, ``abort``, ``flash``,
``send_file`` and friends.

Each one works on the current application through the context proxies, so
it can be imported anywhere. None of them imports the application module.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import typing as t
from datetime import datetime
from functools import update_wrapper

import werkzeug.utils
from werkzeug.exceptions import abort as _werkzeug_abort
from werkzeug.utils import redirect as _werkzeug_redirect
from werkzeug.wrappers import Response as BaseResponse

from . import globals as _globals
from .ctx import StreamWithContext
from .environment import getenv
from .globals import current_app, request, request_ctx, session
from .signals import message_flashed

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .wrappers import Response

# PERF: bound by assignment, not imported (see demijohn.globals).
_cv_app = _globals._cv_app
_cv_request = _globals._cv_request


def get_debug_flag() -> bool:
    """Whether the :envvar:`DEMIJOHN_DEBUG` environment variable (or, when
    it is not set, Flask's ``FLASK_DEBUG``) asks for debug mode. Unset,
    empty, ``0``, ``false`` and ``no`` mean no.
    """
    value = getenv("DEBUG")
    return bool(value and value.lower() not in {"0", "false", "no"})


def get_load_dotenv(default: bool = True) -> bool:
    """Whether the CLI should load the default dotenv files (``.env``,
    ``.demijohnenv`` and ``.flaskenv``).

    :envvar:`DEMIJOHN_SKIP_DOTENV` (or, when it is not set, Flask's
    ``FLASK_SKIP_DOTENV``) set to a true value turns loading off.

    :param default: What to return when the variable is not set.
    """
    value = getenv("SKIP_DOTENV")
    if not value:
        return default
    return value.lower() in {"0", "false", "no"}


@t.overload
def stream_with_context(
    generator_or_function: t.Iterator[t.AnyStr],
) -> t.Iterator[t.AnyStr]: ...


@t.overload
def stream_with_context(
    generator_or_function: t.Callable[..., t.Iterator[t.AnyStr]],
) -> t.Callable[..., t.Iterator[t.AnyStr]]: ...


def stream_with_context(
    generator_or_function: t.Iterator[t.AnyStr] | t.Callable[..., t.Iterator[t.AnyStr]],
) -> t.Iterator[t.AnyStr] | t.Callable[..., t.Iterator[t.AnyStr]]:
    """Keep the request context available while a streamed response runs.

    Wrap a generator (or decorate a generator function) returned from a
    view. Each step of the generator runs with :data:`request`,
    :data:`session` and :data:`g` bound, and the request's teardown
    callbacks run only when the stream ends, fails, or is closed because
    the client went away.

    Unlike a context pushed once for the whole stream, no context stays
    bound on the worker between two steps, so a stream the server never
    finishes cannot leak it into the next request.

    :raises RuntimeError: if called outside a request context.
    """
    if callable(generator_or_function) and not hasattr(
        generator_or_function, "__next__"
    ):
        function = generator_or_function

        def decorator(*args: t.Any, **kwargs: t.Any) -> t.Iterator[t.AnyStr]:
            return stream_with_context(function(*args, **kwargs))

        return update_wrapper(decorator, function)

    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'stream_with_context' can only be used while a request context"
            " is active, such as in a view function."
        )
    return StreamWithContext(t.cast(t.Iterable[t.AnyStr], generator_or_function), ctx)


def make_response(*args: t.Any) -> Response:
    """Turn a view's return value into a response object, e.g. to set a
    header before returning it.

    Takes the same values a view may return: ``make_response(body)``,
    ``make_response(body, status, headers)`` and so on. Without arguments
    it returns an empty response.
    """
    if not args:
        return current_app.response_class()
    if len(args) == 1:
        args = args[0]
    return current_app.make_response(args)


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """Build the URL of ``endpoint`` with ``values``; see
    :meth:`Demijohn.url_for <demijohn.Demijohn.url_for>`.
    """
    return current_app.url_for(
        endpoint,
        _anchor=_anchor,
        _method=_method,
        _scheme=_scheme,
        _external=_external,
        **values,
    )


def redirect(
    location: str, code: int = 302, Response: type[BaseResponse] | None = None
) -> BaseResponse:
    """Return a response that redirects the client to ``location``.

    Inside an application context it calls :meth:`Demijohn.redirect
    <demijohn.Demijohn.redirect>`, so an application can customise
    redirects. A location containing CR or LF raises :exc:`ValueError`
    (from Werkzeug's header checks) instead of splitting headers.
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.redirect(location, code=code)
    return _werkzeug_redirect(location, code=code, Response=Response)


def abort(code: int | BaseResponse, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Raise the :exc:`~werkzeug.exceptions.HTTPException` for ``code``.

    ``abort(404)`` raises :exc:`~werkzeug.exceptions.NotFound`; extra
    arguments become the description. Given a response object, raises an
    exception that sends exactly that response. Inside an application
    context it uses the application's :attr:`~demijohn.Demijohn.aborter`.
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    _werkzeug_abort(code, *args, **kwargs)


def flash(message: str, category: str = "message") -> None:
    """Store a message in the session for the next page to show.

    The template reads it with :func:`get_flashed_messages`. The message and
    category must be serialisable by the session (strings usually are).
    Sends :data:`~demijohn.signals.message_flashed`.
    """
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if message_flashed.receivers:
        message_flashed.send(
            app, _async_wrapper=app.ensure_sync, message=message, category=category
        )


def get_flashed_messages(
    with_categories: bool = False, category_filter: t.Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """The messages flashed by earlier requests, removed from the session.

    Calls within one request return the same messages.

    :param with_categories: Return ``(category, message)`` pairs instead of
        messages.
    :param category_filter: Only return messages of these categories.
    """
    ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
    flashes: list[tuple[str, str]] | None = ctx.flashes
    if flashes is None:
        flashes = session.pop("_flashes") if "_flashes" in session else []
        ctx.flashes = flashes
    if category_filter:
        wanted = set(category_filter)
        flashes = [item for item in flashes if item[0] in wanted]
    if with_categories:
        return flashes
    return [item[1] for item in flashes]


def _send_file_options(**kwargs: t.Any) -> dict[str, t.Any]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if kwargs.get("max_age") is None:
        kwargs["max_age"] = app.get_send_file_max_age
    kwargs.update(
        environ=request.environ,
        use_x_sendfile=app.config["USE_X_SENDFILE"],
        response_class=app.response_class,
        _root_path=app.root_path,
    )
    return kwargs


def send_file(
    path_or_file: os.PathLike[t.AnyStr] | str | t.IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: None | (int | t.Callable[[str | None], int | None]) = None,
) -> Response:
    """Send a file's contents as the response, with conditional requests,
    ranges and ETags handled by Werkzeug.

    Never pass a path that came from the client; use
    :func:`send_from_directory` for that. A relative path is relative to
    the application's root path. ``max_age`` defaults to
    :meth:`Demijohn.get_send_file_max_age
    <demijohn.Demijohn.get_send_file_max_age>`.
    """
    return werkzeug.utils.send_file(  # type: ignore[return-value]
        **_send_file_options(
            path_or_file=path_or_file,
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            conditional=conditional,
            etag=etag,
            last_modified=last_modified,
            max_age=max_age,
        )
    )


def send_from_directory(
    directory: os.PathLike[str] | str, path: os.PathLike[str] | str, **kwargs: t.Any
) -> Response:
    """Send a file from inside ``directory``, refusing any path that would
    leave it.

    ``path`` may come from the client: ``..`` segments, absolute paths and
    other escapes are answered with a 404, as is a missing file.
    ``kwargs`` are passed to :func:`send_file`.
    """
    return werkzeug.utils.send_from_directory(  # type: ignore[return-value]
        directory, path, **_send_file_options(**kwargs)
    )


def get_template_attribute(template_name: str, attribute: str) -> t.Any:
    """Load the template ``template_name`` and return the macro or variable
    it exports as ``attribute``, to call a template macro from Python code.

    Needs an application context; the template is found by the
    application's loaders like :func:`~demijohn.render_template` finds it.

    :raises jinja2.TemplateNotFound: when no loader has the template.
    :raises AttributeError: when the template exports no such name.
    """
    module = current_app.jinja_env.get_template(template_name).module
    return getattr(module, attribute)


def get_root_path(import_name: str) -> str:
    """The folder of the module or package ``import_name``.

    Falls back to the current working directory for an interactive session
    or a module without a file.
    """
    module = sys.modules.get(import_name)
    if module is not None and getattr(module, "__file__", None):
        return os.path.dirname(os.path.abspath(t.cast(str, module.__file__)))
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.loader is None:
        return os.getcwd()
    if spec.origin not in (None, "namespace", "built-in", "frozen"):
        return os.path.dirname(os.path.abspath(spec.origin))
    if spec.submodule_search_locations:
        return os.path.dirname(os.path.abspath(spec.submodule_search_locations[0]))
    raise RuntimeError(
        f"No root path can be found for {import_name!r}. Pass 'root_path' to"
        " the application or blueprint explicitly."
    )
