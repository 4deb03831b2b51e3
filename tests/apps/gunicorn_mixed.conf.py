"""gunicorn settings for ``tests.apps.mixed:app`` in test_load_faults.py.

WSGI has no lifespan protocol, so these hooks run the application's
``before_serving`` and ``after_serving`` functions in each worker, calling
the coroutines ``startup()`` and ``shutdown()`` with ``run_coroutine`` as
docs/deployment.md describes for servers without the protocol. The worker
class, the number of workers and threads and the bind address come from the
command line.
"""

from demijohn.concurrency import run_coroutine

# SIGTERM lets workers finish requests in flight for up to this long; the
# graceful-shutdown tests assert the server exits well within it.
graceful_timeout = 10
# Stay quiet: the server's output goes to a log file the tests read only
# when something failed.
loglevel = "warning"


def post_worker_init(worker):
    """Run the app's startup hooks in the worker once it has loaded the app."""
    run_coroutine(worker.wsgi.startup())
    worker.demijohn_started = True


def worker_exit(server, worker):
    """Run the app's shutdown hooks as the worker exits.

    gunicorn may also call this in the master for a worker that died, where
    ``post_worker_init`` never ran and there is nothing to shut down.
    """
    if getattr(worker, "demijohn_started", False):
        worker.demijohn_started = False
        run_coroutine(worker.wsgi.shutdown())
