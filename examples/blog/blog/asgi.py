"""The application object for ASGI servers: ``uvicorn blog.asgi:app``.

It is the same object as :mod:`blog.wsgi`'s (a demijohn app speaks both
protocols); only ASGI serves the ``/ws/posts`` websocket.
"""

from . import create_app

app = create_app()
