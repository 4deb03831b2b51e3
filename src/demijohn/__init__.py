"""demijohn: a web framework with Flask's API, on Werkzeug and Jinja.

Everything an application needs is importable from here; ``Flask`` is an
alias of :class:`Demijohn` so that ``from demijohn import Flask`` works.
"""

from __future__ import annotations

import typing as _t

from markupsafe import Markup as Markup
from markupsafe import escape as escape

from . import json as json
from .app import Demijohn as Demijohn
from .blueprints import Blueprint as Blueprint
from .config import Config as Config
from .ctx import after_this_request as after_this_request
from .ctx import copy_current_request_context as copy_current_request_context
from .ctx import has_app_context as has_app_context
from .ctx import has_request_context as has_request_context
from .globals import current_app as current_app
from .globals import g as g
from .globals import request as request
from .globals import session as session
from .globals import websocket as websocket
from .helpers import abort as abort
from .helpers import flash as flash
from .helpers import get_flashed_messages as get_flashed_messages
from .helpers import get_template_attribute as get_template_attribute
from .helpers import make_response as make_response
from .helpers import redirect as redirect
from .helpers import send_file as send_file
from .helpers import send_from_directory as send_from_directory
from .helpers import stream_with_context as stream_with_context
from .helpers import url_for as url_for
from .json import jsonify as jsonify
from .signals import appcontext_popped as appcontext_popped
from .signals import appcontext_pushed as appcontext_pushed
from .signals import appcontext_tearing_down as appcontext_tearing_down
from .signals import before_render_template as before_render_template
from .signals import got_request_exception as got_request_exception
from .signals import message_flashed as message_flashed
from .signals import request_finished as request_finished
from .signals import request_started as request_started
from .signals import request_tearing_down as request_tearing_down
from .signals import template_rendered as template_rendered
from .templating import render_template as render_template
from .templating import render_template_string as render_template_string
from .templating import stream_template as stream_template
from .templating import stream_template_string as stream_template_string
from .websockets import Websocket as Websocket
from .websockets import WebsocketDisconnect as WebsocketDisconnect
from .wrappers import Request as Request
from .wrappers import Response as Response

#: The name Flask code uses for the application class.
Flask = Demijohn

if _t.TYPE_CHECKING:  # pragma: no cover - the name for type checkers
    from . import cli as cli
else:

    def __getattr__(name: str) -> object:
        """Import :mod:`demijohn.cli` on first use of ``demijohn.cli``.

        Code written for Flask reaches ``flask.cli`` (``flask.cli.AppGroup``,
        ``flask.cli.with_appcontext``) after a bare ``import flask``; the same
        code works on ``demijohn.cli``. The command line module is imported
        when first named rather than with the framework, which every
        application pays for.
        """
        if name == "cli":
            # import_module, not "from . import cli": that asks this module
            # for the attribute first, which would come back here.
            import importlib

            return importlib.import_module(f"{__name__}.cli")
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0.dev0"

# DEMIJOHN_FLASK_SHIM=1 asks for the Flask import shim as soon as demijohn is
# imported (see demijohn.compat); without it, nothing here touches ``flask``.
from .compat import _activate_if_requested  # noqa: E402

_activate_if_requested()
