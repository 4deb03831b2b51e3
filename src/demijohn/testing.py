"""Testing without a server: the test client, request environments and the
CLI runner.

:meth:`Demijohn.test_client <demijohn.Demijohn.test_client>` returns a
:class:`DemijohnClient`, a Werkzeug :class:`~werkzeug.test.Client` that
knows the application's config (``SERVER_NAME``, ``APPLICATION_ROOT``,
``PREFERRED_URL_SCHEME``), its JSON provider and its session.
"""

from __future__ import annotations

import importlib.metadata
import typing as t
from contextlib import ExitStack, contextmanager
from copy import copy
from types import TracebackType
from urllib.parse import urlsplit

import werkzeug.test
from click.testing import CliRunner, Result
from werkzeug.datastructures import Headers
from werkzeug.test import Client
from werkzeug.wrappers import Request as BaseRequest
from werkzeug.wsgi import get_current_url

from .cli_loading import ScriptInfo
from .errors import InvalidArgumentsError
from .sessions import SessionMixin
from .testing_transport import (
    WebsocketSession,
    call_asgi_with_environ,
    scope_from_environ,
)

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.test import TestResponse

    from .app import Demijohn


class EnvironBuilder(werkzeug.test.EnvironBuilder):
    """A Werkzeug :class:`~werkzeug.test.EnvironBuilder` whose defaults come
    from the application's config, and whose ``json=`` argument is
    serialised with the application's JSON provider.

    :param app: The application the request is for.
    :param path: The path, optionally with a query string, scheme and host.
    :param base_url: The URL the path is relative to. By default built from
        ``SERVER_NAME`` (or ``localhost``), ``APPLICATION_ROOT`` and
        ``PREFERRED_URL_SCHEME``.
    :param subdomain: A subdomain to prepend to the host; not with
        ``base_url``.
    :param url_scheme: The scheme; not with ``base_url``.
    """

    def __init__(
        self,
        app: Demijohn,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *args: t.Any,
        **kwargs: t.Any,
    ) -> None:
        if base_url is not None and (subdomain or url_scheme):
            raise InvalidArgumentsError(
                'Cannot pass "subdomain" or "url_scheme" with "base_url".'
            )
        if base_url is None:
            http_host = app.config.get("SERVER_NAME") or "localhost"
            app_root = app.config["APPLICATION_ROOT"]
            if subdomain:
                http_host = f"{subdomain}.{http_host}"
            if url_scheme is None:
                url_scheme = app.config["PREFERRED_URL_SCHEME"]
            url = urlsplit(path)
            base_url = (
                f"{url.scheme or url_scheme}://{url.netloc or http_host}"
                f"/{app_root.lstrip('/')}"
            )
            path = url.path
            if url.query:
                path = f"{path}?{url.query}"
        #: The application the request is built for.
        self.app = app
        super().__init__(path, base_url, *args, **kwargs)

    def json_dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialise ``json=`` data with the application's JSON provider."""
        return self.app.json.dumps(obj, **kwargs)


def _werkzeug_version() -> str:
    try:
        return importlib.metadata.version("werkzeug")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


_WERKZEUG_VERSION = _werkzeug_version()


class DemijohnClient(Client):
    """Sends requests to the application and returns its responses.

    Created by :meth:`Demijohn.test_client <demijohn.Demijohn.test_client>`.
    Cookies persist across requests (unless ``use_cookies=False``), and
    ``follow_redirects=True`` follows redirects. Used in a ``with`` block,
    the context of the last request stays bound after it returns, so tests
    can inspect :data:`~demijohn.request`, :data:`~demijohn.session` and
    :data:`~demijohn.g`::

        with app.test_client() as client:
            client.get("/login")
            assert session["user_id"] == 1
    """

    application: Demijohn

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        #: Whether requests keep their context after returning; set inside
        #: a ``with`` block.
        self.preserve_context = False
        self._new_contexts: list[t.ContextManager[t.Any]] = []
        self._context_stack = ExitStack()
        #: Environment values added to every request.
        self.environ_base = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": f"Werkzeug/{_WERKZEUG_VERSION}",
        }

    @contextmanager
    def session_transaction(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Iterator[SessionMixin]:
        """Open the client's session for direct reading and writing.

        Changes are saved to the client's cookies when the block ends, and
        the next request sees them. Arguments are those of
        :meth:`Demijohn.test_request_context
        <demijohn.Demijohn.test_request_context>`.

        :raises TypeError: if the client was created with
            ``use_cookies=False``.
        :raises RuntimeError: if the session interface opened no session.
        """
        if self._cookies is None:
            raise TypeError(
                "Cookies are disabled. Create a client with 'use_cookies=True'."
            )
        app = self.application
        ctx = app.test_request_context(*args, **kwargs)
        self._add_cookies_to_wsgi(ctx.request.environ)
        with ctx:
            sess = app.session_interface.open_session(app, ctx.request)
        if sess is None:
            raise RuntimeError("Session backend did not open a session.")
        yield sess
        response = app.response_class()
        if app.session_interface.is_null_session(sess):
            return
        with ctx:
            app.session_interface.save_session(app, sess, response)
        self._update_cookies_from_response(
            ctx.request.host.partition(":")[0],
            ctx.request.path,
            response.headers.getlist("Set-Cookie"),
        )

    def _copy_environ(self, other: t.Mapping[str, t.Any]) -> WSGIEnvironment:
        environ: WSGIEnvironment = {**self.environ_base, **other}
        if self.preserve_context:
            environ["werkzeug.debug.preserve_context"] = self._new_contexts.append
        return environ

    def _request_from_builder_args(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> BaseRequest:
        kwargs["environ_base"] = self._copy_environ(kwargs.get("environ_base", {}))
        builder = EnvironBuilder(self.application, *args, **kwargs)
        try:
            return builder.get_request()
        finally:
            builder.close()

    def open(
        self,
        *args: t.Any,
        buffered: bool = False,
        follow_redirects: bool = False,
        **kwargs: t.Any,
    ) -> TestResponse:
        """Send a request and return the response.

        Takes the arguments of :class:`EnvironBuilder` (``path``,
        ``method``, ``json``, ``data``, ``headers``, ``query_string``, ...),
        or a ready ``EnvironBuilder``, environ dict or request object.
        """
        if args and isinstance(
            args[0], (werkzeug.test.EnvironBuilder, dict, BaseRequest)
        ):
            if isinstance(args[0], werkzeug.test.EnvironBuilder):
                builder = copy(args[0])
                builder.environ_base = self._copy_environ(
                    dict(builder.environ_base or {})
                )
                request = builder.get_request()
            elif isinstance(args[0], dict):
                request = EnvironBuilder.from_environ(
                    args[0], app=self.application, environ_base=self._copy_environ({})
                ).get_request()
            else:
                request = copy(args[0])
                request.environ = self._copy_environ(request.environ)
        else:
            request = self._request_from_builder_args(args, kwargs)

        # Pop the contexts of the previous request kept by ``with client``.
        self._context_stack.close()
        response = super().open(
            request, buffered=buffered, follow_redirects=follow_redirects
        )
        response.json_module = self.application.json  # type: ignore[assignment]
        while self._new_contexts:
            self._context_stack.enter_context(self._new_contexts.pop(0))
        return response

    def websocket(
        self, path: str, subprotocols: t.Sequence[str] = (), **kwargs: t.Any
    ) -> WebsocketSession:
        """Open a WebSocket connection to ``path``; use the result as a
        context manager (see
        :class:`~demijohn.testing_transport.WebsocketSession`).

        WebSockets only exist under ASGI, so this always goes through the
        application's ASGI interface, whichever client it is called on. The
        client's cookies are sent. ``kwargs`` are those of
        :class:`EnvironBuilder` (``query_string``, ``headers``, ...).
        """
        headers = Headers(kwargs.pop("headers", None) or {})
        headers.setdefault("Connection", "Upgrade")
        headers.setdefault("Upgrade", "websocket")
        if subprotocols:
            headers["Sec-WebSocket-Protocol"] = ", ".join(subprotocols)
        kwargs["environ_base"] = self._copy_environ(kwargs.get("environ_base", {}))
        builder = EnvironBuilder(self.application, path, headers=headers, **kwargs)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        self._add_cookies_to_wsgi(environ)
        scope = scope_from_environ(environ, "websocket")
        return WebsocketSession(self.application, scope)

    def __enter__(self) -> DemijohnClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        self.preserve_context = True
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.preserve_context = False
        self._context_stack.close()


class ASGIClient(DemijohnClient):
    """A test client that sends every request through the application's
    ASGI interface instead of its WSGI one.

    Same API as :class:`DemijohnClient`: requests are built the same way,
    then turned into an ASGI ``http`` scope and body and served by
    ``app(scope, receive, send)`` on a background event loop. Use it to
    check that behaviour is identical under both protocols::

        client = ASGIClient(app, app.response_class)

    Responses are read whole before they are returned, so the request's
    teardown has already run when a streamed response comes back.
    """

    def run_wsgi_app(
        self, environ: WSGIEnvironment, buffered: bool = False
    ) -> tuple[t.Iterable[bytes], str, Headers]:
        """Serve ``environ`` through the ASGI interface; see
        :func:`~demijohn.testing_transport.call_asgi_with_environ`."""
        self._add_cookies_to_wsgi(environ)
        # The transport reads the whole body up front. Rewind it afterwards,
        # as a WSGI app that never read it would leave it, so following a
        # 307/308 redirect resends the body.
        stream = environ["wsgi.input"]
        seekable = getattr(stream, "seekable", None)
        start = stream.tell() if seekable is not None and seekable() else None
        body, status, headers = call_asgi_with_environ(self.application, dict(environ))
        if start is not None:
            stream.seek(start)
        url = urlsplit(get_current_url(environ))
        self._update_cookies_from_response(
            url.hostname or "localhost", url.path, headers.getlist("Set-Cookie")
        )
        # As Werkzeug's run_wsgi_app returns it: an iterator over the body
        # (the response then reports is_streamed, as under WSGI), a list
        # when buffered.
        return (body if buffered else iter(body)), status, headers


class DemijohnCliRunner(CliRunner):
    """Invokes the application's CLI commands in tests; created by
    :meth:`Demijohn.test_cli_runner <demijohn.Demijohn.test_cli_runner>`.
    """

    def __init__(self, app: Demijohn, **kwargs: t.Any) -> None:
        #: The application whose commands are invoked.
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]
        self, cli: t.Any = None, args: t.Any = None, **kwargs: t.Any
    ) -> Result:
        """Invoke ``cli`` (default: ``app.cli``) with ``args``, loading this
        application for commands that need it. Returns click's
        :class:`~click.testing.Result`.
        """
        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app)
        return super().invoke(cli, args, **kwargs)


#: The name Flask uses for :class:`DemijohnClient`.
FlaskClient = DemijohnClient
#: The name Flask uses for :class:`DemijohnCliRunner`.
FlaskCliRunner = DemijohnCliRunner
