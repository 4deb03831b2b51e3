"""The application object for WSGI servers: ``gunicorn blog.wsgi:app``."""

from . import create_app

app = create_app()
