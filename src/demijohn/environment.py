"""The environment variables demijohn reads, under both of their names.

Every variable demijohn reads is named ``DEMIJOHN_<NAME>`` (``DEMIJOHN_APP``,
``DEMIJOHN_DEBUG``, ``DEMIJOHN_RUN_PORT``, ``DEMIJOHN_SKIP_DOTENV``, ...).
Each also answers to Flask's spelling, ``FLASK_<NAME>``, so a Flask
deployment keeps its environment, ``.flaskenv`` file and
``app.config.from_prefixed_env()`` settings when it moves to demijohn. When
both are set, the ``DEMIJOHN_`` one wins: it can only have been meant for
demijohn.

Rules for this module: it imports nothing from demijohn; it only reads (and,
for the command line, copies) variables.
"""

from __future__ import annotations

import os

#: The prefix of demijohn's own variables, without its underscore.
PREFIX = "DEMIJOHN"
#: The prefix Flask reads, honoured as a fallback.
FLASK_PREFIX = "FLASK"


def getenv(name: str) -> str | None:
    """The value of ``DEMIJOHN_<name>``, else of ``FLASK_<name>``, else
    ``None``. ``name`` is given without a prefix, e.g. ``"DEBUG"``."""
    value = os.environ.get(f"{PREFIX}_{name}")
    if value is None:
        value = os.environ.get(f"{FLASK_PREFIX}_{name}")
    return value


def adopt_flask_variables() -> None:
    """Copy each ``FLASK_<NAME>`` variable to ``DEMIJOHN_<NAME>`` where that
    is not set.

    Called by the ``demijohn`` command once the dotenv files are loaded and
    before its options are read: click reads an option's variable under one
    prefix only (``DEMIJOHN_RUN_PORT`` for ``run --port``), so the Flask
    spellings (``FLASK_RUN_PORT``, ``FLASK_APP``) are copied to it, which
    covers the options of the application's own commands too.
    """
    start = f"{FLASK_PREFIX}_"
    for key, value in list(os.environ.items()):
        # RUN_FROM_CLI is a marker the command sets, not an option's value;
        # getenv reads it under either prefix.
        if key.startswith(start) and key != f"{FLASK_PREFIX}_RUN_FROM_CLI":
            os.environ.setdefault(f"{PREFIX}_{key[len(start) :]}", value)


__all__ = ["FLASK_PREFIX", "PREFIX", "adopt_flask_variables", "getenv"]
