"""Telling whether a subclass changed some of its base class's members.

Each fast path in demijohn stands in for methods a subclass may override
(the lifecycle's steps, a response class's sending, a request class's body
reading). It is taken only while the class still has the base's own
members, which :func:`keeps_members` checks.
"""

from __future__ import annotations

import typing as t


def keeps_members(cls: type, base: type, names: t.Iterable[str]) -> bool:
    """Whether ``cls`` has the very same attribute as ``base`` for each of
    ``names``: none of them overridden by ``cls`` or a class between the
    two.

    :param cls: A subclass of ``base`` (or ``base`` itself).
    :param base: The class whose members the fast path stands in for.
    :param names: The attribute names to compare.
    """
    return all(getattr(cls, name) is getattr(base, name) for name in names)
