"""Server-side sessions stored in Redis.

The default cookie session keeps the whole session in the browser. This
interface keeps only a random session id there, in a signed cookie, and the
data in Redis, so that:

- every process and machine that uses the same Redis server sees the same
  sessions, whichever of them the load balancer picks;
- a session can be ended on the server (logout really logs out, and an
  administrator can delete ``session:*`` keys);
- the session can hold more than the ~4 KB a cookie allows.

Install the client with ``pip install 'demijohn[redis]'``, then::

    from demijohn.contrib.redis_session import RedisSessionInterface

    app.config["SESSION_REDIS_URL"] = "redis://127.0.0.1:6379/0"
    app.session_interface = RedisSessionInterface()

Configuration keys, read on every request:

``SESSION_REDIS_URL``
    Where the server is, default ``redis://127.0.0.1:6379/0``. Ignored when
    a client is passed to :class:`RedisSessionInterface`.
``SESSION_REDIS_PREFIX``
    Prepended to the session id to make the Redis key, default
    ``"session:"``. Apps that share sessions must use the same prefix.
``SESSION_REDIS_TTL``
    How long a session that is not :attr:`~demijohn.sessions.SessionMixin.permanent`
    lives in Redis after its last request, in seconds or as a
    :class:`~datetime.timedelta`; default one day. Permanent sessions live
    for ``PERMANENT_SESSION_LIFETIME``.

Every ``SESSION_COOKIE_*`` setting and ``SESSION_REFRESH_EACH_REQUEST``
apply as for the cookie session. The cookie is signed with ``SECRET_KEY``,
and cookies signed with a key in ``SECRET_KEY_FALLBACKS`` are accepted.

The Redis client (:mod:`redis`) is synchronous. Under WSGI that is what a
worker expects; under ASGI demijohn opens and saves the session in the
request's worker thread, so the round trips never block the event loop. A Redis
server that cannot be reached raises :exc:`redis.exceptions.ConnectionError`
from the request, which the app turns into a 500: sessions are not silently
dropped.
"""

from __future__ import annotations

import collections.abc as cabc
import hashlib
import secrets
import threading
import typing as t
from datetime import timedelta

from itsdangerous import BadSignature, Signer

from ..globals import session as current_session
from ..sessions import (
    SecureCookieSession,
    SessionInterface,
    SessionMixin,
    session_json_serializer,
)

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from ..app import Demijohn
    from ..wrappers import Request, Response

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_TTL",
    "DEFAULT_URL",
    "RedisClient",
    "RedisSession",
    "RedisSessionInterface",
    "regenerate",
]

#: ``SESSION_REDIS_URL`` when the config does not set it.
DEFAULT_URL = "redis://127.0.0.1:6379/0"
#: ``SESSION_REDIS_PREFIX`` when the config does not set it.
DEFAULT_PREFIX = "session:"
#: ``SESSION_REDIS_TTL`` when the config does not set it.
DEFAULT_TTL = timedelta(days=1)

_INSTALL_HINT = (
    "RedisSessionInterface needs the Redis client library, which is not"
    " installed. Install it with: pip install 'demijohn[redis]'"
)


class RedisClient(t.Protocol):
    """The four Redis commands the interface uses.

    :class:`redis.Redis` provides them; so does any client with the same
    methods (a cluster client, or a fake in tests).
    """

    def get(self, name: str) -> t.Any:
        """Return the value at ``name`` (bytes or str), or ``None``."""

    def set(self, name: str, value: str, ex: int) -> t.Any:
        """Set ``name`` to ``value``, expiring in ``ex`` seconds."""

    def expire(self, name: str, time: int) -> t.Any:
        """Make ``name`` expire in ``time`` seconds."""

    def delete(self, *names: str) -> t.Any:
        """Delete the keys ``names``."""


class RedisSession(SecureCookieSession):
    """A session whose data lives in Redis under :attr:`sid`.

    Tracks :attr:`modified` and :attr:`accessed` like the cookie session.
    """

    def __init__(
        self,
        initial: cabc.Mapping[str, t.Any] | None = None,
        sid: str | None = None,
    ) -> None:
        """Create a session holding ``initial``, stored under ``sid``.

        Without ``sid`` the session is :attr:`new`: it gets an id when it is
        first saved with data in it.
        """
        super().__init__(initial)
        #: The session id: the Redis key without its prefix, and what the
        #: cookie carries. ``None`` until a new session is first saved.
        self.sid = sid
        #: Whether the request brought no usable session: no cookie, a bad
        #: signature, an unknown or expired id, or unreadable data.
        self.new = sid is None
        #: Ids this session was stored under before :meth:`regenerate`;
        #: their keys are deleted when the session is saved.
        self.replaced_sids: list[str] = []

    def regenerate(self) -> None:
        """Move the session to a fresh id when it is saved, keeping its data.

        Call it when the user's privileges change, typically right after a
        login, so an id an attacker planted or saw earlier (session
        fixation) stops working. The old key is deleted and the browser is
        sent the new id at the end of the request.
        """
        if self.sid is not None:
            self.replaced_sids.append(self.sid)
            self.sid = None
        self.modified = True


def regenerate() -> None:
    """Give the current request's session a fresh id; see
    :meth:`RedisSession.regenerate`.

    :raise TypeError: When the app's session was not opened by
        :class:`RedisSessionInterface` (with the cookie session there is no
        id to change), or it is the null session of an app without a
        secret key.
    :raise RuntimeError: Outside a request.
    """
    opened = current_session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(opened, RedisSession):
        raise TypeError(
            "regenerate() needs a session opened by RedisSessionInterface,"
            f" but the current session is a {type(opened).__name__}. Set"
            " 'app.session_interface = RedisSessionInterface()' (and a"
            " SECRET_KEY)."
        )
    opened.regenerate()


def _signing_keys(app: Demijohn) -> list[bytes]:
    """The keys the cookie may be signed with: fallbacks, then the current
    key, which :mod:`itsdangerous` signs with because it is last."""
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
    # A lone string is one key, not a list of one-character keys.
    if isinstance(fallbacks, (str, bytes)):
        fallbacks = [fallbacks]
    keys: list[str | bytes] = [*fallbacks, t.cast("str | bytes", app.secret_key)]
    return [key.encode("utf-8") if isinstance(key, str) else key for key in keys]


def _seconds(value: timedelta | float) -> int:
    """Whole seconds of a TTL setting, at least one (Redis refuses zero)."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    return max(1, int(value))


class RedisSessionInterface(SessionInterface):
    """Keeps sessions in Redis, and their ids in a signed cookie.

    Pass a client to use it (any object with the methods of
    :class:`RedisClient`, usually :class:`redis.Redis`), or let the
    interface connect to ``SESSION_REDIS_URL`` on first use; it keeps one
    client, and so one connection pool, per URL. ``prefix`` overrides
    ``SESSION_REDIS_PREFIX``.

    A cookie that is missing, tampered with, signed with an unknown key, or
    names an id Redis does not have (expired, deleted), and data in Redis
    that cannot be read, all give a new empty session, never an error. An
    empty session that was never written creates no key and no cookie, so
    visitors who never log in cost nothing in Redis.

    Two requests of the same session handled at the same time each save
    what they read plus their own changes: the last one to finish wins.
    """

    #: Mixed into the secret key, so this signature is valid for session
    #: ids only; a cookie-session cookie is not accepted here and the other
    #: way round.
    salt = "demijohn.redis-session"

    #: The hash function of the cookie's HMAC signature.
    digest_method = staticmethod(hashlib.sha256)

    #: Turns the session into text and back: demijohn's tagged JSON, so
    #: tuples, bytes, datetimes, UUIDs and markup round-trip. Register more
    #: tags on it to store more types.
    serializer = session_json_serializer

    #: The class of the sessions :meth:`open_session` returns.
    session_class: type[RedisSession] = RedisSession

    #: Random bytes in a session id; 32 bytes is 256 bits, far out of reach
    #: of guessing.
    sid_bytes = 32

    def __init__(
        self, client: RedisClient | None = None, *, prefix: str | None = None
    ) -> None:
        """Use ``client`` if given, else connect to ``SESSION_REDIS_URL``."""
        #: The client passed in, or ``None`` to connect from the config.
        self.client = client
        #: The key prefix, or ``None`` to read ``SESSION_REDIS_PREFIX``.
        self.prefix = prefix
        self._clients: dict[str, RedisClient] = {}
        self._clients_lock = threading.Lock()

    def get_redis(self, app: Demijohn) -> RedisClient:
        """Return the Redis client for ``app``.

        :raise ImportError: When no client was passed and the ``redis``
            package is not installed, saying how to install it.
        """
        if self.client is not None:
            return self.client
        url: str = app.config.get("SESSION_REDIS_URL") or DEFAULT_URL
        with self._clients_lock:
            client = self._clients.get(url)
            if client is None:
                client = self._clients[url] = self.connect(url)
        return client

    def connect(self, url: str) -> RedisClient:
        """Create the client for ``url``; called once per URL.

        Override it to pass options to :meth:`redis.Redis.from_url`
        (timeouts, TLS, a pool size).

        :raise ImportError: When the ``redis`` package is not installed.
        """
        try:
            import redis
        except ImportError as e:
            raise ImportError(_INSTALL_HINT) from e
        return t.cast(RedisClient, redis.Redis.from_url(url))

    def get_key(self, app: Demijohn, sid: str) -> str:
        """Return the Redis key of session ``sid``: the prefix, then the id."""
        prefix = self.prefix
        if prefix is None:
            prefix = app.config.get("SESSION_REDIS_PREFIX", DEFAULT_PREFIX)
        return f"{prefix}{sid}"

    def generate_sid(self) -> str:
        """Return a new random session id (URL-safe text, no dots)."""
        return secrets.token_urlsafe(self.sid_bytes)

    def get_signer(self, app: Demijohn) -> Signer | None:
        """Return the signer of the session cookie, or ``None`` when the app
        has no secret key (sessions are then unavailable)."""
        if not app.secret_key:
            return None
        return Signer(
            _signing_keys(app),
            salt=self.salt,
            key_derivation="hmac",
            digest_method=self.digest_method,
        )

    def get_redis_ttl(self, app: Demijohn, session: SessionMixin) -> int:
        """Return how many seconds the session lives in Redis from now.

        ``PERMANENT_SESSION_LIFETIME`` for a permanent session, else
        ``SESSION_REDIS_TTL`` (default one day); at least one second.
        """
        if session.permanent:
            return _seconds(app.permanent_session_lifetime)
        return _seconds(app.config.get("SESSION_REDIS_TTL", DEFAULT_TTL))

    def open_session(self, app: Demijohn, request: Request) -> RedisSession | None:
        """Load the session named by the request's cookie.

        Returns ``None`` without a secret key (the app then uses a null
        session), and a new empty session when the cookie or the stored
        data is missing or unusable.

        :raise redis.exceptions.RedisError: When Redis cannot be reached.
        """
        signer = self.get_signer(app)
        if signer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        try:
            sid = signer.unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return self.session_class()
        data = self.load(self.get_redis(app).get(self.get_key(app, sid)))
        if data is None:
            return self.session_class()
        return self.session_class(data, sid=sid)

    def load(self, raw: bytes | str | None) -> dict[str, t.Any] | None:
        """Deserialize a stored session; ``None`` when there is none or it
        cannot be read as a mapping."""
        if raw is None:
            return None
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            data = self.serializer.loads(text)
        # The stored bytes may come from anywhere (an older release, another
        # program, a hand edit), and the tagged serializer can fail on them
        # in many ways; a session that cannot be read is a fresh one.
        except Exception:
            return None
        return data if isinstance(data, dict) else None

    def _cookie_options(self, app: Demijohn) -> dict[str, t.Any]:
        """The ``Set-Cookie`` attributes shared by setting and deleting."""
        return {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "httponly": self.get_cookie_httponly(app),
            "samesite": self.get_cookie_samesite(app),
            "partitioned": self.get_cookie_partitioned(app),
        }

    def save_session(
        self, app: Demijohn, session: SessionMixin, response: Response
    ) -> None:
        """Store the session in Redis and send its cookie when needed.

        Adds ``Vary: Cookie`` when the session was accessed. A session that
        was emptied has its key deleted and its cookie removed. A modified
        one is written with ``SET ... EX`` (expiring after
        :meth:`get_redis_ttl`); an unmodified one has its expiry pushed
        forward with ``EXPIRE`` when ``SESSION_REFRESH_EACH_REQUEST`` is
        on. The cookie is sent when :meth:`should_set_cookie` says so.
        Keys of ids replaced by :meth:`RedisSession.regenerate` are deleted.

        :raise TypeError: When ``session`` is not a :class:`RedisSession`.
        :raise redis.exceptions.RedisError: When Redis cannot be reached.
        """
        if not isinstance(session, RedisSession):
            raise TypeError(
                "RedisSessionInterface saves only the sessions it opened,"
                f" not a {type(session).__name__}."
            )
        if session.accessed:
            response.vary.add("Cookie")
        signer = self.get_signer(app)
        if signer is None:  # the secret key was removed during the request
            return
        if not session:
            if session.modified:
                self._delete(app, session)
                response.delete_cookie(
                    self.get_cookie_name(app), **self._cookie_options(app)
                )
                response.vary.add("Cookie")
            return
        self._store(app, session)
        if self.should_set_cookie(app, session):
            response.set_cookie(
                self.get_cookie_name(app),
                signer.sign(t.cast(str, session.sid)).decode("ascii"),
                expires=self.get_expiration_time(app, session),
                **self._cookie_options(app),
            )
            response.vary.add("Cookie")

    def _delete(self, app: Demijohn, session: RedisSession) -> None:
        """Delete every key the session was stored under."""
        sids = [*session.replaced_sids]
        if session.sid is not None:
            sids.append(session.sid)
        if sids:
            self.get_redis(app).delete(*(self.get_key(app, sid) for sid in sids))
        session.replaced_sids.clear()

    def _store(self, app: Demijohn, session: RedisSession) -> None:
        """Write a non-empty session, or refresh its expiry."""
        client = self.get_redis(app)
        ttl = self.get_redis_ttl(app, session)
        if session.sid is None:
            session.sid = self.generate_sid()
            session.modified = True
        key = self.get_key(app, session.sid)
        if session.modified:
            client.set(key, self.serializer.dumps(dict(session)), ex=ttl)
        elif app.config["SESSION_REFRESH_EACH_REQUEST"]:
            # EXPIRE, not a second SET: rewriting data this request did
            # not change could undo what a concurrent request just saved.
            client.expire(key, ttl)
        if session.replaced_sids:
            client.delete(*(self.get_key(app, sid) for sid in session.replaced_sids))
            session.replaced_sids.clear()
