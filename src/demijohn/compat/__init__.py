"""Opt-in compatibility with code written for Flask, such as unmodified
Flask extensions.

The Flask import shim makes ``import flask`` and ``import flask.<module>``
give demijohn's modules, even when the real Flask is installed, so that
``flask.Flask is demijohn.Demijohn`` and an extension's
``from flask import current_app`` sees demijohn's application. Turn it on
before anything imports ``flask``, in one of three ways:

- ``import demijohn.compat.flask_shim`` at the top of the entry module;
- the environment variable ``DEMIJOHN_FLASK_SHIM=1``, honoured when
  :mod:`demijohn` is imported;
- ``demijohn --flask-shim <command>`` on the command line.

Without one of them demijohn never touches ``flask``. Importing this
package alone activates nothing.
"""

from __future__ import annotations

import os

from ._flask_aliases import FLASK_VERSION as FLASK_VERSION
from ._flask_aliases import MODULE_MAP as MODULE_MAP
from ._flask_aliases import SHIM_ENV_VAR as SHIM_ENV_VAR
from ._flask_aliases import activate as activate_flask_shim
from ._flask_aliases import is_active as flask_shim_active

__all__ = [
    "FLASK_VERSION",
    "MODULE_MAP",
    "SHIM_ENV_VAR",
    "activate_flask_shim",
    "flask_shim_active",
    "flask_shim_requested",
]


def flask_shim_requested() -> bool:
    """Whether the environment asks for the Flask import shim: whether
    :envvar:`DEMIJOHN_FLASK_SHIM` is set to something other than empty,
    ``0``, ``false`` or ``no``."""
    value = os.environ.get(SHIM_ENV_VAR, "")
    return value.lower() not in {"", "0", "false", "no"}


def _activate_if_requested() -> None:
    # Called at the end of ``import demijohn``.
    if flask_shim_requested():
        activate_flask_shim()
