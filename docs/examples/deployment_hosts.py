"""One host name for the API, itself split by path:
``uvicorn deployment_hosts:application --lifespan on``."""

from __future__ import annotations

from deployment_apps import api_v1, api_v2, frontend

from demijohn.contrib.dispatch import Dispatcher

application = Dispatcher(
    frontend,
    hosts={"api.example.com": Dispatcher(api_v1, {"/v2": api_v2})},
)
