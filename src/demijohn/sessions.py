"""Sessions: the :class:`SessionInterface` hook and the signed-cookie default.

The application asks its :attr:`~demijohn.Demijohn.session_interface` to
open a session when a request starts and to save it into the response when
the request ends. The default, :class:`SecureCookieSessionInterface`, keeps
the whole session in one cookie signed with :mod:`itsdangerous`. Its format
is Flask's: with the same ``SECRET_KEY`` and settings, a session cookie
written by a Flask app is read by a demijohn app and the other way round.

The data is signed, not encrypted: users can read it but not change it.
Replace the interface to store sessions elsewhere::

    app.session_interface = MySessionInterface()

This module does no IO of its own and reads no globals: everything comes
from the ``app``, ``request`` and ``response`` arguments. The default
interface signs through :mod:`demijohn.cookie_signing`, which keeps the
keys derived from the secret keys, so the :mod:`itsdangerous` serializer
need not be rebuilt for every request; its cookies are byte for byte the
ones that serializer writes.
"""

from __future__ import annotations

import collections.abc as cabc
import hashlib
import typing as t
from datetime import datetime, timezone

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from itsdangerous import BadSignature as BadSignature
from werkzeug.datastructures import CallbackDict
from werkzeug.sansio.response import Response as _SansIOResponse

from .cookie_header import set_cookie
from .cookie_signing import CookieSigner, cached_signer, peek_payload, signing_keys
from .json.tag import TaggedJSONSerializer

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from _collections_abc import dict_items, dict_keys, dict_values

    from .app import Demijohn
    from .wrappers import Request, Response

__all__ = [
    "NullSession",
    "SecureCookieSession",
    "SecureCookieSessionInterface",
    "SessionInterface",
    "SessionMixin",
    "session_json_serializer",
]

_NO_SECRET_KEY_MESSAGE = (
    "The session is unavailable because no secret key was set. Set the"
    " secret_key on the application to something unique and secret."
)


class SessionMixin(cabc.MutableMapping[str, t.Any]):
    """The attributes every session object has on top of a mutable mapping.

    A custom :class:`SessionInterface` may return any mapping that mixes
    this in, for example ``class Session(dict, SessionMixin): pass``. The
    defaults below are the safe ones for a session that tracks nothing.
    """

    @property
    def permanent(self) -> bool:
        """Whether the session outlives the browser session.

        Stored under the ``"_permanent"`` key. A permanent cookie session
        expires after :attr:`~demijohn.Demijohn.permanent_session_lifetime`;
        otherwise the browser drops it when it closes.
        """
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    #: Whether the session was just created. Few backends can tell a new
    #: session from an empty one, so the default is always ``False``; do
    #: not rely on it unless your interface sets it.
    new = False

    #: Whether the session changed during the request, so it must be
    #: saved. The default is ``True`` so that a session which cannot track
    #: writes is always saved.
    modified = True

    #: Whether the session was read or written during the request. When
    #: true, the response gets ``Vary: Cookie`` so caches keep one copy per
    #: session. The request context sets it whenever the session is reached
    #: through :data:`~demijohn.session`, so a session class that cannot
    #: track reads itself is still covered.
    accessed = False


def _note_write(session: SecureCookieSession) -> None:
    """Mark a cookie session as changed; :class:`CallbackDict` calls this."""
    session.modified = True
    session.accessed = True


class SecureCookieSession(CallbackDict[str, t.Any], SessionMixin):
    """The session :class:`SecureCookieSessionInterface` opens.

    A dict that tracks :attr:`modified` and :attr:`accessed` itself. It
    cannot tell a new session from an empty one, so :attr:`new` stays
    ``False``.
    """

    #: Set to ``True`` when a key is set, deleted or cleared; only then is
    #: the cookie written again. Changing a mutable value in place (say,
    #: appending to a list stored in the session) is not seen: set this to
    #: ``True`` yourself after doing so.
    modified = False

    #: Set to ``True`` when the session is read or written. Reading means
    #: item access, :meth:`get`, :meth:`setdefault`, ``in``, :func:`len`,
    #: iteration and the :meth:`keys`, :meth:`values` and :meth:`items`
    #: views, so any answer that depends on the session adds
    #: ``Vary: Cookie``.
    accessed = False

    def __init__(self, initial: cabc.Mapping[str, t.Any] | None = None) -> None:
        """Create a session holding a copy of ``initial``.

        Neither :attr:`modified` nor :attr:`accessed` is set by this.
        """
        super().__init__(initial, _note_write)

    def __getitem__(self, key: str) -> t.Any:
        """Return the value for ``key``, marking the session accessed.

        :raise KeyError: When the key is not in the session.
        """
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: t.Any = None) -> t.Any:
        """Return the value for ``key`` or ``default``; marks it accessed."""
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        """Return the value for ``key``, storing ``default`` if it is missing.

        Marks the session accessed, and modified when it stored ``default``.
        """
        self.accessed = True
        return super().setdefault(key, default)

    def __contains__(self, key: object) -> bool:
        """Tell whether ``key`` is set, marking the session accessed."""
        self.accessed = True
        return super().__contains__(key)

    def __len__(self) -> int:
        """Return the number of keys, marking the session accessed."""
        self.accessed = True
        return super().__len__()

    def __iter__(self) -> cabc.Iterator[str]:
        """Iterate over the keys, marking the session accessed."""
        self.accessed = True
        return super().__iter__()

    def keys(self) -> dict_keys[str, t.Any]:
        """Return a view of the keys, marking the session accessed."""
        self.accessed = True
        return super().keys()

    def values(self) -> dict_values[str, t.Any]:
        """Return a view of the values, marking the session accessed."""
        self.accessed = True
        return super().values()

    def items(self) -> dict_items[str, t.Any]:
        """Return a view of the items, marking the session accessed."""
        self.accessed = True
        return super().items()


class NullSession(SecureCookieSession):
    """The read-only, empty session used when sessions cannot work.

    :meth:`SessionInterface.make_null_session` returns it, by default when
    the app has no secret key. Reading works and finds nothing; any write
    raises :exc:`RuntimeError` saying how to fix the setup.
    """

    def _refuse_write(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        """Raise the error that explains why the session cannot be set.

        :raise RuntimeError: Always.
        """
        raise RuntimeError(_NO_SECRET_KEY_MESSAGE)

    __setitem__ = __delitem__ = clear = pop = popitem = _refuse_write
    update = setdefault = __ior__ = _refuse_write
    del _refuse_write


class SessionInterface:
    """How the application opens and saves sessions; replace it to move them.

    Subclass it, implement :meth:`open_session` and :meth:`save_session`,
    and assign an instance to :attr:`~demijohn.Demijohn.session_interface`.
    The ``get_cookie_*`` helpers read the ``SESSION_COOKIE_*`` settings so
    every interface honours them the same way.

    Requests that share a session can be handled at the same time, and
    sessions are opened and saved in the order requests start and finish.
    An interface with a shared store must cope with that itself.
    """

    #: The class :meth:`make_null_session` creates and
    #: :meth:`is_null_session` checks for.
    null_session_class: type[NullSession] = NullSession

    #: Whether the session data is pickled. Extensions may check it to
    #: decide what they can store.
    pickle_based = False

    def make_null_session(self, app: Demijohn) -> NullSession:
        """Return the stand-in for a session :meth:`open_session` could not open.

        Used when it returns ``None``. The null session allows reads and
        explains the problem on writes. Creates an instance of
        :attr:`null_session_class`.
        """
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Tell whether ``obj`` is a null session, which is never saved.

        Checks against :attr:`null_session_class`.
        """
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Demijohn) -> str:
        """Return the session cookie's name, from ``SESSION_COOKIE_NAME``."""
        name: str = app.config["SESSION_COOKIE_NAME"]
        return name

    def get_cookie_domain(self, app: Demijohn) -> str | None:
        """Return the cookie's ``Domain`` attribute, ``SESSION_COOKIE_DOMAIN``.

        ``None`` (the default) leaves the attribute out, so the browser
        sends the cookie back only to the host that set it. A domain makes
        it send the cookie to that domain's subdomains too. A false value
        such as ``False`` or ``""`` also means no attribute.
        """
        domain: str | None = app.config["SESSION_COOKIE_DOMAIN"]
        return domain or None

    def get_cookie_path(self, app: Demijohn) -> str:
        """Return the cookie's ``Path`` attribute.

        Uses ``SESSION_COOKIE_PATH`` when set, else ``APPLICATION_ROOT``,
        else ``"/"``.
        """
        path: str | None = (
            app.config["SESSION_COOKIE_PATH"] or app.config["APPLICATION_ROOT"]
        )
        return path or "/"

    def get_cookie_httponly(self, app: Demijohn) -> bool:
        """Return ``SESSION_COOKIE_HTTPONLY``: hide the cookie from scripts."""
        return bool(app.config["SESSION_COOKIE_HTTPONLY"])

    def get_cookie_secure(self, app: Demijohn) -> bool:
        """Return ``SESSION_COOKIE_SECURE``: send the cookie over HTTPS only."""
        return bool(app.config["SESSION_COOKIE_SECURE"])

    def get_cookie_samesite(self, app: Demijohn) -> str | None:
        """Return the cookie's ``SameSite`` attribute, ``SESSION_COOKIE_SAMESITE``.

        ``"Strict"``, ``"Lax"`` or ``"None"``; ``None`` leaves it out.
        """
        samesite: str | None = app.config["SESSION_COOKIE_SAMESITE"]
        return samesite

    def get_cookie_partitioned(self, app: Demijohn) -> bool:
        """Return ``SESSION_COOKIE_PARTITIONED``: add ``Partitioned``.

        A partitioned cookie (CHIPS) is kept in one jar per top-level site.
        """
        return bool(app.config["SESSION_COOKIE_PARTITIONED"])

    def get_expiration_time(
        self, app: Demijohn, session: SessionMixin
    ) -> datetime | None:
        """Return when the session cookie expires.

        A permanent session expires
        :attr:`~demijohn.Demijohn.permanent_session_lifetime` from now (in
        UTC); any other returns ``None``, a cookie that lasts until the
        browser closes.
        """
        if session.permanent:
            return datetime.now(timezone.utc) + app.permanent_session_lifetime
        return None

    def should_set_cookie(self, app: Demijohn, session: SessionMixin) -> bool:
        """Tell whether :meth:`save_session` should send ``Set-Cookie``.

        True when the session was modified, or when it is permanent and
        ``SESSION_REFRESH_EACH_REQUEST`` is on (re-sending the cookie pushes
        its expiry forward). Not consulted when the session was emptied,
        which deletes the cookie instead.
        """
        if session.modified:
            return True
        return session.permanent and bool(app.config["SESSION_REFRESH_EACH_REQUEST"])

    def open_session(self, app: Demijohn, request: Request) -> SessionMixin | None:
        """Load the session for ``request``.

        Called when the request context is pushed, before the URL is
        matched. Return a mapping that mixes in :class:`SessionMixin`, or
        ``None`` when sessions cannot work (the app then uses
        :meth:`make_null_session`).

        :raise NotImplementedError: In the base class.
        """
        raise NotImplementedError

    def save_session(
        self, app: Demijohn, session: SessionMixin, response: Response
    ) -> None:
        """Store ``session`` and update ``response`` to match.

        Called at the end of the request, after the ``after_request``
        functions, unless :meth:`is_null_session` is true for the session.

        :raise NotImplementedError: In the base class.
        """
        raise NotImplementedError


#: The serializer the cookie session interface uses by default. Register
#: extra :class:`~demijohn.json.tag.JSONTag` classes on it (or on
#: ``app.session_interface.serializer``) to store more types.
session_json_serializer = TaggedJSONSerializer()


def _sha1(data: bytes = b"") -> t.Any:
    """Return a SHA-1 hash object for ``data``.

    Wrapping :func:`hashlib.sha1` defers the lookup to first use: some FIPS
    builds lack SHA-1, and an app there must be able to import this module
    and set another :attr:`~SecureCookieSessionInterface.digest_method`.
    """
    return hashlib.sha1(data)


class _CookieOptions(t.TypedDict):
    """The ``Set-Cookie`` attributes shared by setting and deleting."""

    domain: str | None
    path: str
    secure: bool
    httponly: bool
    samesite: str | None
    partitioned: bool


#: Where itsdangerous gets the signing time, so a replacement (a test that
#: moves the clock by patching it) is noticed and left to itsdangerous.
_STOCK_GET_TIMESTAMP = TimestampSigner.get_timestamp


def _vary_on_cookie(response: Response) -> None:
    """Add ``Cookie`` to the response's ``Vary`` header.

    PERF: ``response.vary`` parses the header into a set on each access
    and writes it back on change. When the header is missing, or its first
    value (the one ``response.vary`` parses) is exactly ``Cookie``, the
    outcome is known: add it, or leave it. ``getlist`` is used because a
    missing key makes ``get`` build and catch an exception.
    """
    if type(response).vary is _SansIOResponse.vary:
        headers = response.headers
        current = headers.getlist("Vary")
        if not current:
            headers.add("Vary", "Cookie")
            return
        if current[0] == "Cookie":
            return
    response.vary.add("Cookie")


class SecureCookieSessionInterface(SessionInterface):
    """The default interface: the session lives in a signed cookie.

    The cookie holds the session serialized with :attr:`serializer`, a
    timestamp and a signature made with the app's ``secret_key``, readable
    by Flask with the same settings. Cookies signed with a key listed in
    ``SECRET_KEY_FALLBACKS`` are still accepted, so keys can be rotated
    without logging everyone out. A cookie that is tampered with, signed
    with an unknown key, malformed, or older than
    :attr:`~demijohn.Demijohn.permanent_session_lifetime` gives a fresh
    empty session.
    """

    #: Mixed into the secret key so this signature is valid for session
    #: cookies only, not for other data signed with the same key.
    salt = "cookie-session"

    #: The hash function of the signature (SHA-1, as Flask uses).
    digest_method = staticmethod(_sha1)

    #: How :mod:`itsdangerous` derives the signing key from the secret
    #: key and :attr:`salt`.
    key_derivation = "hmac"

    #: Turns the session into text and back; compact JSON with tags for
    #: tuples, bytes, datetimes and a few more types.
    serializer = session_json_serializer

    #: The class of the sessions :meth:`open_session` returns.
    session_class: type[SecureCookieSession] = SecureCookieSession

    def get_signing_serializer(self, app: Demijohn) -> URLSafeTimedSerializer | None:
        """Return the :mod:`itsdangerous` serializer for the app's keys.

        Returns ``None`` when the app has no secret key. It signs with
        ``app.secret_key`` and also accepts the keys in
        ``SECRET_KEY_FALLBACKS``. Called on each open and save, so a key
        change takes effect on the next request.
        """
        secret_key = app.secret_key
        if not secret_key:
            return None
        return URLSafeTimedSerializer(
            signing_keys(secret_key, app.config.get("SECRET_KEY_FALLBACKS")),
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

    def open_session(
        self, app: Demijohn, request: Request
    ) -> SecureCookieSession | None:
        """Load the session from the request's cookie.

        Returns ``None`` without a secret key, an empty session when there
        is no cookie or it is invalid or expired, and never raises for a
        bad cookie.
        """
        signer = self._cached_signer(app)
        serializer = None
        if signer is None:
            # A customised interface (or no secret key): itsdangerous only.
            serializer = self.get_signing_serializer(app)
            if serializer is None:
                return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        if signer is not None:
            text = signer.unsign(cookie, max_age)
            if text is not None:
                try:
                    data = self.serializer.loads(text)
                except Exception:  # itsdangerous re-judges it below
                    pass
                else:
                    return self._session_from(data)
            # Whatever the quick check did not accept (tampered, expired,
            # malformed) is judged by itsdangerous itself, as it always was.
            serializer = self.get_signing_serializer(app)
        if serializer is None:  # the secret key was removed meanwhile
            return None
        try:
            data = serializer.loads(cookie, max_age=max_age)
        except BadData:
            return self.session_class()
        return self._session_from(data)

    def _session_from(self, data: t.Any) -> SecureCookieSession:
        """Wrap loaded cookie data in :attr:`session_class`."""
        # Only a holder of the key can sign a non-dict, but a session must
        # be a mapping whatever was signed.
        if not isinstance(data, dict):
            return self.session_class()
        return self.session_class(data)

    def _cached_signer(self, app: Demijohn) -> CookieSigner | None:
        """Return a reusable signer when this interface signs the default way.

        PERF: see :class:`~demijohn.cookie_signing.CookieSigner`. It reproduces
        :meth:`get_signing_serializer` only for the default key derivation,
        digest and serializer type and itsdangerous's own clock, so it is
        used only when those are unchanged (on the class or the instance)
        and the method itself is not overridden; :attr:`salt`, the secret
        key and the fallback keys pick the cached signer, so changing any of
        them takes effect on the next call. Returns ``None`` otherwise, and
        without a secret key.
        """
        if (
            type(self).get_signing_serializer
            is not SecureCookieSessionInterface.get_signing_serializer
            or "get_signing_serializer" in vars(self)
            or self.key_derivation != "hmac"
            or self.digest_method is not _sha1
            or type(self.serializer) is not TaggedJSONSerializer
            or URLSafeTimedSerializer.default_signer is not TimestampSigner
            or TimestampSigner.get_timestamp is not _STOCK_GET_TIMESTAMP
        ):
            return None
        secret_key = app.secret_key
        salt = self.salt
        if not (secret_key and isinstance(secret_key, (str, bytes))):
            return None
        if not isinstance(salt, (str, bytes)):
            return None
        return cached_signer(secret_key, app.config.get("SECRET_KEY_FALLBACKS"), salt)

    def _unopened_session_saves_nothing(self, app: Demijohn, request: Request) -> bool:
        """Tell whether the session of ``request``, which nothing opened
        during the request, would save no cookie and no ``Vary`` header.

        PERF: opening a session means parsing the cookies, checking the
        signature and loading the JSON, about 60 µs here. A session nobody
        read is not accessed and not modified, so :meth:`save_session` can
        only refresh a permanent one (``SESSION_REFRESH_EACH_REQUEST``).
        Whether it is permanent shows in the cookie's payload without the
        signature: compact JSON without any backslash spells every key
        literally, so if ``"_permanent"`` is missing, the session, valid or
        not, is not permanent. Anything else (a compressed payload, escapes,
        a payload that does not decode) answers ``False`` and the session
        is opened. Only the stock interface and session class qualify: an
        override of any method involved, on the class or the instance,
        sees its session opened as before.
        """
        if self.session_class is not SecureCookieSession:
            return False
        kind, replaced = type(self), vars(self)
        for name, stock in _STOCK_SAVE_MEMBERS:
            if getattr(kind, name) is not stock or name in replaced:
                return False
        if self._cached_signer(app) is None:
            return False
        if not app.config["SESSION_REFRESH_EACH_REQUEST"]:
            return True
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return True  # it would open empty, and an empty session saves nothing
        text = peek_payload(cookie)
        return text is not None and b"\\" not in text and b'"_permanent"' not in text

    def _cookie_options(self, app: Demijohn) -> _CookieOptions:
        """Collect the cookie attributes from the ``get_cookie_*`` hooks."""
        return _CookieOptions(
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
            partitioned=self.get_cookie_partitioned(app),
        )

    def save_session(
        self, app: Demijohn, session: SessionMixin, response: Response
    ) -> None:
        """Write the session cookie into ``response`` when needed.

        Adds ``Vary: Cookie`` when the session was accessed. A session that
        was emptied deletes the cookie (with the same attributes it was set
        with, or the browser would keep it); an empty untouched session
        sends nothing. Otherwise the cookie is set when
        :meth:`should_set_cookie` says so, expiring at
        :meth:`get_expiration_time`.
        """
        accessed = session.accessed
        if accessed:
            _vary_on_cookie(response)
        # PERF: adding Cookie again through the stock ``vary`` changes
        # nothing; a response class with its own ``vary`` sees both calls,
        # as in Flask.
        varied = accessed and type(response).vary is _SansIOResponse.vary
        options = self._cookie_options(app)
        name = self.get_cookie_name(app)
        if not session:
            if session.modified:
                response.delete_cookie(name, **options)
                if not varied:
                    _vary_on_cookie(response)
            return
        if not self.should_set_cookie(app, session):
            return
        value = self._dump_cookie(app, dict(session))
        if value is None:  # the secret key was removed during the request
            return
        set_cookie(
            response,
            name,
            value,
            expires=self.get_expiration_time(app, session),
            **options,
        )
        if not varied:
            _vary_on_cookie(response)

    def _dump_cookie(self, app: Demijohn, data: dict[str, t.Any]) -> str | None:
        """Serialize and sign ``data``; ``None`` without a secret key."""
        signer = self._cached_signer(app)
        if signer is not None:
            text = self.serializer.dumps(data)
            # itsdangerous signs a text serializer's output as UTF-8; any
            # other output is left to it.
            if isinstance(text, str):
                return signer.sign(text)
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        return serializer.dumps(data)


#: The methods whose stock versions :meth:`SecureCookieSessionInterface.
#: _unopened_session_saves_nothing` reasons about, with those versions.
_STOCK_SAVE_MEMBERS = tuple(
    (name, getattr(SecureCookieSessionInterface, name))
    for name in (
        "open_session",
        "save_session",
        "should_set_cookie",
        "is_null_session",
        "get_signing_serializer",
    )
)
