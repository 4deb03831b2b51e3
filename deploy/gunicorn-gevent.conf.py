"""gunicorn settings: gevent workers (green threads).

    pip install gevent
    gunicorn -c deploy/gunicorn-gevent.conf.py 'myproject:app'

Each worker serves up to ``worker_connections`` requests at once on
greenlets, for I/O-bound apps (many slow upstream calls, long polling).
gevent patches the standard library's sockets, so pure-Python clients such
as redis-py yield to other greenlets instead of blocking the worker; a
database driver written in C needs its own gevent support (psycogreen for
psycopg2), or it blocks the whole worker while it waits. demijohn's
contexts are contextvars, which gevent keeps per greenlet.
"""

import os
import pathlib
import runpy

# Everything from the sync file (bind, timeouts, logging, lifespan hooks).
_base = runpy.run_path(str(pathlib.Path(__file__).with_name("gunicorn.conf.py")))
globals().update({k: v for k, v in _base.items() if not k.startswith("_")})

worker_class = "gevent"
worker_connections = int(os.environ.get("DEMIJOHN_WORKER_CONNECTIONS", "1000"))
workers = int(
    os.environ.get("DEMIJOHN_WORKERS")
    or os.environ.get("WEB_CONCURRENCY")
    or max(2, os.cpu_count() or 1)
)
keepalive = 5
