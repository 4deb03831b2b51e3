"""Importing this module makes ``import flask`` give demijohn.

Put this line at the top of the application's entry module, before any
Flask extension (or anything else that imports ``flask``) is imported::

    import demijohn.compat.flask_shim  # noqa: F401

From then on ``import flask`` and ``import flask.<module>`` resolve to
demijohn's modules (``flask.Flask is demijohn.Demijohn``), also when the
real Flask is installed, and ``flask.__version__`` reports
:data:`~demijohn.compat.FLASK_VERSION`. The environment variable
``DEMIJOHN_FLASK_SHIM=1`` and ``demijohn --flask-shim`` do the same.

:raises ImportError: when the real Flask was imported first. Modules that
    already hold Flask's objects cannot be switched over, so the import
    order has to be fixed; the message says how.
"""

from __future__ import annotations

from ._flask_aliases import activate

activate()
