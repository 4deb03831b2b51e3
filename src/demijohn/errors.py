"""Exceptions demijohn raises when its API is used wrongly.

Flask checks some setup arguments with ``assert``, so code written for it
(and its test suites) expects :exc:`AssertionError`. demijohn raises these
classes instead, which are both an :exc:`AssertionError` and the exception
that says what went wrong, and whose messages say how to fix it. Unlike an
``assert``, they are raised even under ``python -O``.
"""

from __future__ import annotations


class InvalidArgumentsError(AssertionError, ValueError):
    """Arguments that cannot be used together, such as ``static_host``
    without ``host_matching``."""


class MissingArgumentError(AssertionError, TypeError):
    """A required argument is missing, such as both the endpoint and the
    view function of a URL rule."""
