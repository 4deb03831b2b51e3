"""A small multi-user blog built with demijohn.

:func:`create_app` builds the application; each module adds one part of it
through an ``init_app(app)`` function or a blueprint:

============  ==========================================================
``settings``  defaults, config sources, the ``SECRET_KEY`` check
``db``        the connection on ``g``, SQLite/PostgreSQL, ``init-db``
``queries``   every SQL statement the views run
``forms``     validation of submitted fields
``auth``      register, log in and out; ``g.user``; ``login_required``
``posts``     the HTML pages for posts
``api``       the JSON API, including the async ``/api/stats``
``live``      the ``/ws/posts`` websocket and its broadcast hub
``errors``    JSON or HTML error responses
============  ==========================================================
"""

from __future__ import annotations

import typing as t

from demijohn import Demijohn

from . import api, auth, db, errors, live, posts, settings


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Demijohn:
    """Build the blog application.

    :param test_config: Settings for a test. When given, they replace the
        instance config file and the environment (see :mod:`blog.settings`).
    :raises blog.settings.ConfigError: when the configuration cannot work,
        such as a missing ``SECRET_KEY`` outside debug and testing mode.
    """
    app = Demijohn(__name__, instance_relative_config=True)
    settings.load_config(app, test_config)
    db.init_app(app)
    live.init_app(app)
    errors.init_app(app)
    for blueprint in (auth.bp, posts.bp, api.bp, live.bp):
        app.register_blueprint(blueprint)
    return app
