"""Configuration: the defaults, where overrides come from, and the checks
that stop a misconfigured app before it serves anything.

Sources, later ones winning:

1. :class:`DefaultConfig` below;
2. ``config.py`` in the instance folder, if present (keep secrets there,
   out of version control);
3. environment variables named ``DEMIJOHN_<KEY>``
   (``DEMIJOHN_SECRET_KEY=...`` sets ``SECRET_KEY``), plus the conventional
   un-prefixed ``DATABASE_URL``.

Tests pass ``test_config`` to :func:`blog.create_app` instead: then only the
defaults and that mapping apply, so a developer's instance config or
``DATABASE_URL`` can never point a test run at real data.
"""

from __future__ import annotations

import logging
import os
import typing as t

if t.TYPE_CHECKING:
    from demijohn import Demijohn

log = logging.getLogger(__name__)

#: Used only in debug or testing mode when no key was configured. It is
#: public, so sessions signed with it can be forged: never use it in
#: production (startup refuses to, see :func:`check_secret_key`).
DEV_SECRET_KEY = "blog-development-key-not-secret"


class DefaultConfig:
    """Settings every deployment starts from."""

    #: Signs the session cookie. Required outside debug and testing mode.
    SECRET_KEY: str | None = None
    #: ``postgresql://user:pass@host/db`` to use PostgreSQL (needs the
    #: ``psycopg`` package), or ``sqlite:///path/to/file.sqlite``.
    DATABASE_URL: str | None = None
    #: Path of the SQLite file when no ``DATABASE_URL`` is set; ``None``
    #: means ``blog.sqlite`` in the instance folder.
    DATABASE: str | None = None
    #: Browsers do not send the session cookie on cross-site form posts,
    #: the main defence against cross-site request forgery in this app.
    SESSION_COOKIE_SAMESITE = "Lax"
    #: How passwords are hashed (see ``werkzeug.security``). Slow on
    #: purpose; tests choose a cheap method to stay fast.
    PASSWORD_HASH_METHOD = "scrypt"
    MAX_USERNAME_LENGTH = 40
    MAX_PASSWORD_LENGTH = 200
    MAX_TITLE_LENGTH = 120
    MAX_BODY_LENGTH = 10_000
    #: Posts shown on the index page and returned by the list API.
    POSTS_PER_PAGE = 50
    #: Live-update messages kept for a slow websocket client before the
    #: oldest are dropped.
    LIVE_QUEUE_SIZE = 100


class ConfigError(RuntimeError):
    """The configuration cannot run the application; the message says how
    to fix it."""


def load_config(app: Demijohn, test_config: t.Mapping[str, t.Any] | None) -> None:
    """Fill ``app.config`` from the sources listed in the module docstring,
    then apply the derived defaults and checks.

    :raises ConfigError: when the configuration is unusable.
    """
    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("DEMIJOHN")
        # The name hosting platforms set; the prefixed form wins over it.
        if not app.config["DATABASE_URL"] and os.environ.get("DATABASE_URL"):
            app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    else:
        app.config.from_mapping(test_config)
    if not app.config["DATABASE"]:
        app.config["DATABASE"] = os.path.join(app.instance_path, "blog.sqlite")
    check_secret_key(app)


def check_secret_key(app: Demijohn) -> None:
    """Refuse to start without ``SECRET_KEY`` in production.

    In debug or testing mode a missing key is replaced by
    :data:`DEV_SECRET_KEY`, with a warning, so ``demijohn --app blog --debug
    run`` works on a fresh checkout.

    :raises ConfigError: when the key is missing and the app is in neither
        debug nor testing mode.
    """
    if app.config["SECRET_KEY"]:
        return
    if app.debug or app.testing:
        log.warning("SECRET_KEY is not set; using the insecure development key.")
        app.config["SECRET_KEY"] = DEV_SECRET_KEY
        return
    raise ConfigError(
        "SECRET_KEY is not set, and the blog refuses to run in production"
        " without one: anyone could forge a login session. Set the"
        " DEMIJOHN_SECRET_KEY environment variable, or SECRET_KEY in"
        f" {os.path.join(app.instance_path, 'config.py')}, to a long random"
        ' string, e.g. the output of: python -c "import secrets;'
        ' print(secrets.token_hex())". For local development, run in debug'
        " mode instead: demijohn --app blog --debug run"
    )
