"""Optional pieces for running demijohn on more than one process or machine.

Nothing here is imported by :mod:`demijohn` itself, and each module pulls in
its own optional dependencies only when it is used:

- :mod:`demijohn.contrib.redis_session`: sessions kept in Redis, shared by
  every process that talks to the same server (``pip install
  'demijohn[redis]'``).
- :mod:`demijohn.contrib.dispatch`: one WSGI and ASGI entry point in front
  of several applications, chosen by URL prefix or host name.
"""
