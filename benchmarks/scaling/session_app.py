"""The application the scaling benchmark serves.

Every request reads and writes the session, which lives in Redis, so any
process behind the load balancer can serve any request of a visitor. The
response names the process that served it, so the benchmark can check that
requests really were spread over the processes and that the session followed
the visitor from one to the other.
"""

import os

from demijohn import Demijohn, session
from demijohn.contrib.redis_session import RedisSessionInterface

app = Demijohn(__name__)
app.config.update(
    SECRET_KEY=os.environ["BENCH_SECRET_KEY"],
    SESSION_REDIS_URL=os.environ["SESSION_REDIS_URL"],
)
app.session_interface = RedisSessionInterface()


@app.get("/")
def visit() -> dict[str, int]:
    """Count the visitor's requests in their session."""
    visits = session.get("visits", 0) + 1
    session["visits"] = visits
    return {"visits": visits, "pid": os.getpid()}
