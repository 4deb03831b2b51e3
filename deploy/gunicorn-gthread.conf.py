"""gunicorn settings: threaded workers (gthread).

    gunicorn -c deploy/gunicorn-gthread.conf.py 'myproject:app'

Each worker process serves up to ``threads`` requests at once, so a worker
waiting on the database or Redis keeps serving others. Fewer processes are
needed than with sync workers: memory goes further. The views must be
thread-safe, which demijohn's context-local ``request``/``session``/``g``
are.
"""

import os
import pathlib
import runpy

# Everything from the sync file (bind, timeouts, logging, lifespan hooks).
_base = runpy.run_path(str(pathlib.Path(__file__).with_name("gunicorn.conf.py")))
globals().update({k: v for k, v in _base.items() if not k.startswith("_")})

worker_class = "gthread"
threads = int(os.environ.get("DEMIJOHN_THREADS", "8"))
# Fewer processes, each with threads: about one per core.
workers = int(
    os.environ.get("DEMIJOHN_WORKERS")
    or os.environ.get("WEB_CONCURRENCY")
    or max(2, os.cpu_count() or 1)
)
# gthread workers keep idle connections from nginx open this long.
keepalive = 5
