"""gunicorn settings for a demijohn application: sync workers.

    gunicorn -c deploy/gunicorn.conf.py 'myproject:app'

One process per worker, one request at a time in each: the simplest model,
and the right one for CPU-bound views or code that is not thread-safe.
Settings come from the environment so one file serves every machine; the
command line overrides any of them (``-b``, ``-w``). The gthread and gevent
variants next to this file reuse everything here.

The hooks at the bottom run the application's ``before_serving`` /
``after_serving`` / ``while_serving`` functions in each worker, which is
what the ASGI lifespan protocol does under uvicorn.
"""

import contextlib
import multiprocessing
import os

# Behind nginx on the same machine: listen on loopback only. Give each
# instance its own port (DEMIJOHN_BIND=127.0.0.1:8001, ...) for nginx's
# upstream, or a Unix socket (unix:/run/myproject/gunicorn.sock).
bind = os.environ.get("DEMIJOHN_BIND", "127.0.0.1:8000")

# Sync workers: one request at a time each. (2 x cores) + 1 keeps the CPU
# busy while some workers wait on the database or Redis. WEB_CONCURRENCY is
# what hosting platforms set.
workers = int(
    os.environ.get("DEMIJOHN_WORKERS")
    or os.environ.get("WEB_CONCURRENCY")
    or multiprocessing.cpu_count() * 2 + 1
)
worker_class = "sync"

# A sync worker stuck longer than this is killed and replaced.
timeout = int(os.environ.get("DEMIJOHN_TIMEOUT", "30"))
# On SIGTERM (deploys, systemd stop) workers finish requests in flight
# for up to this long.
graceful_timeout = 30
# Keep-alive only matters for connections from nginx, which reuses them
# when its upstream has "keepalive"; sync workers close them anyway.
keepalive = 2

# Restart each worker after about this many requests, so a slow leak in
# some library cannot grow without bound. The jitter spreads the restarts.
max_requests = 10_000
max_requests_jitter = 1_000

# nginx on 127.0.0.1 sets X-Forwarded-*; gunicorn takes the scheme from
# X-Forwarded-Proto only from these addresses. The client's address and
# host need ProxyFix in the app (docs/deployment.md).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = os.environ.get("DEMIJOHN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("DEMIJOHN_LOG_LEVEL", "info")

# Load the application in each worker after the fork (the default): every
# worker gets its own database and Redis connections. With preload_app,
# connections opened at import time would be shared across processes.
preload_app = False


def post_worker_init(worker):
    """Run the app's startup hooks in the worker, once it has loaded the app.

    ``worker.wsgi`` is the object gunicorn serves: a demijohn application
    or a ``Dispatcher``, both of which have ``serving()``. A startup hook
    that raises stops the worker from booting, and gunicorn from starting.
    """
    serving = getattr(worker.wsgi, "serving", None)
    if serving is None:
        return
    stack = contextlib.ExitStack()
    stack.enter_context(serving())
    worker.demijohn_serving = stack


def worker_exit(server, worker):
    """Run the app's shutdown hooks when the worker exits.

    gunicorn also calls this in the master for a worker that died; only
    the worker process that ran ``post_worker_init`` has anything to close.
    """
    stack = getattr(worker, "demijohn_serving", None)
    if stack is not None:
        worker.demijohn_serving = None
        stack.close()
