#!/bin/sh
# Serve a demijohn application over ASGI with uvicorn, behind nginx.
#
#   DEMIJOHN_TARGET=myproject:app PORT=8001 deploy/uvicorn.sh
#
# The same application object gunicorn serves over WSGI: uvicorn detects
# that it is an ASGI 3 application, and runs its before_serving /
# after_serving functions through the lifespan protocol (--lifespan on
# makes a failing startup stop the server instead of being ignored).
#
# uvicorn's own process manager (--workers) starts N processes on one port.
# For one process per port, as in deploy/nginx.conf's upstream, run one
# instance per port with WEB_CONCURRENCY=1.
set -eu

exec uvicorn "${DEMIJOHN_TARGET:-myproject:app}" \
    --host "${HOST:-127.0.0.1}" \
    --port "${PORT:-8000}" \
    --workers "${WEB_CONCURRENCY:-2}" \
    --lifespan on \
    --proxy-headers \
    --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
    --timeout-graceful-shutdown 30 \
    --limit-max-requests 10000 \
    --no-server-header \
    --log-level "${LOG_LEVEL:-info}"
