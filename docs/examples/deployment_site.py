"""Three applications behind one entry point, by URL prefix:
``gunicorn -c deploy/gunicorn.conf.py deployment_site:application``."""

from __future__ import annotations

from deployment_apps import admin, api, frontend

from demijohn.contrib.dispatch import Dispatcher

application = Dispatcher(frontend, {"/api": api, "/admin": admin})
