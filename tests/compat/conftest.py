"""The Flask extension suite: unmodified Flask extensions on demijohn.

The suite needs the Flask import shim active before any extension imports
``flask``, while the rest of the test suite needs the real Flask in the same
situation (cookie and API parity tests). One process cannot have both, and
switching back is impossible once an extension holds ``flask``'s objects.
So this directory only runs in a process of its own, with the shim turned on
by the environment before anything imports ``flask``::

    DEMIJOHN_FLASK_SHIM=1 .venv/bin/python -m pytest tests/compat

``tests/test_flask_extensions.py`` starts exactly that from the main suite.
In any other process the tests here are not collected.
"""

from __future__ import annotations

import demijohn.compat

if demijohn.compat.flask_shim_active():
    # The documented line; a no-op here, since the environment already
    # activated the shim when tests/conftest.py imported demijohn.
    import demijohn.compat.flask_shim
else:
    collect_ignore_glob = ["test_*.py"]
