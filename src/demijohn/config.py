"""Application configuration: the :class:`Config` dict and its loaders.

:class:`Config` is a plain :class:`dict` with methods that fill it from
Python files, objects, data files, mappings and environment variables.
:class:`ConfigAttribute` exposes one config key as an attribute of the
application, such as ``app.secret_key`` for ``app.config["SECRET_KEY"]``.

This module sits at the bottom of the import graph: it imports nothing from
demijohn, so the application and any extension can use it freely.
"""

from __future__ import annotations

import errno
import json
import os
import types
import typing as t
from datetime import timedelta

from werkzeug.utils import import_string

from .environment import FLASK_PREFIX, PREFIX

__all__ = ["DEFAULT_CONFIG", "Config", "ConfigAttribute"]

T = t.TypeVar("T")

#: The configuration every new application starts from. The application
#: copies it into its own :class:`Config`, so changing one application's
#: config never leaks into another. The keys and values are Flask 3.1's.
DEFAULT_CONFIG: dict[str, t.Any] = {
    "DEBUG": None,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "USE_X_SENDFILE": False,
    "TRUSTED_HOSTS": None,
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_SAMESITE": None,
    "SESSION_REFRESH_EACH_REQUEST": True,
    "MAX_CONTENT_LENGTH": None,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "TRAP_HTTP_EXCEPTIONS": False,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "PREFERRED_URL_SCHEME": "http",
    "TEMPLATES_AUTO_RELOAD": None,
    "MAX_COOKIE_SIZE": 4093,
    "PROVIDE_AUTOMATIC_OPTIONS": True,
}

# Errors that mean "there is no such file" rather than "the file is broken";
# only these are swallowed when a loader is called with ``silent=True``.
_MISSING_PYFILE_ERRNOS = frozenset({errno.ENOENT, errno.EISDIR, errno.ENOTDIR})
_MISSING_DATAFILE_ERRNOS = frozenset({errno.ENOENT, errno.EISDIR})


class _HasConfig(t.Protocol):
    """Anything with a ``config`` mapping, usually the application."""

    # A read-only property keeps the protocol covariant, so an owner that
    # declares ``config: Config`` or ``config: dict[str, Any]`` both match.
    @property
    def config(self) -> t.MutableMapping[str, t.Any]: ...


@t.overload
def _make_timedelta(value: timedelta | int) -> timedelta: ...


@t.overload
def _make_timedelta(value: None) -> None: ...


def _make_timedelta(value: timedelta | int | None) -> timedelta | None:
    """Turn a number of seconds into a :class:`~datetime.timedelta`.

    Used as the ``get_converter`` of time-valued config attributes, such as
    ``PERMANENT_SESSION_LIFETIME``, so users may set either form.

    :param value: A timedelta (returned unchanged), a number of seconds, or
        ``None`` (returned unchanged, meaning "not set").
    :return: The value as a timedelta, or ``None``.
    """
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


class ConfigAttribute(t.Generic[T]):
    """Expose the config key ``name`` as an attribute of the owning class.

    Reading the attribute on an instance returns ``obj.config[name]``,
    passed through ``get_converter`` when one is given; assigning to it
    stores the value in ``obj.config[name]`` unchanged. Reading it on the
    class returns the descriptor itself. The type parameter states what a
    read returns::

        class Demijohn:
            testing = ConfigAttribute[bool]("TESTING")

    :param name: The config key to forward to.
    :param get_converter: Called with the raw config value on every read;
        its result is returned instead. Setting is not converted.
    :raises KeyError: On read, if the key is missing from the config.
    """

    def __init__(
        self, name: str, get_converter: t.Callable[[t.Any], T] | None = None
    ) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    @t.overload
    def __get__(
        self, obj: None, owner: type[t.Any] | None = None
    ) -> ConfigAttribute[T]: ...

    @t.overload
    def __get__(self, obj: _HasConfig, owner: type[t.Any] | None = None) -> T: ...

    def __get__(
        self, obj: _HasConfig | None, owner: type[t.Any] | None = None
    ) -> T | ConfigAttribute[T]:
        """Return the config value, converted; the descriptor on the class."""
        if obj is None:
            return self
        # The config holds Any; the type parameter is the caller's promise.
        # PERF: declared, not cast: typing.cast is a call at run time.
        value: T = obj.config[self.__name__]
        if self.get_converter is not None:
            return self.get_converter(value)
        return value

    def __set__(self, obj: _HasConfig, value: t.Any) -> None:
        """Store ``value`` under the config key, without conversion."""
        obj.config[self.__name__] = value

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__name__!r}>"


class Config(dict[str, t.Any]):
    """A :class:`dict` of configuration that can load itself from sources.

    The application creates one as :attr:`app.config`, with the application's
    root path and :data:`DEFAULT_CONFIG` as defaults. Every loader only takes
    keys that are all uppercase, so a config file or module may hold
    lowercase helper names that are not configuration::

        app.config.from_object("myapp.default_settings")
        app.config.from_prefixed_env()
        app.config.from_file("config.toml", load=tomllib.load, text=False)

    :param root_path: Relative file names given to :meth:`from_pyfile` and
        :meth:`from_file` are resolved against this directory.
    :param defaults: Initial keys and values, copied into the config.
    """

    def __init__(
        self,
        root_path: str | os.PathLike[str],
        defaults: t.Mapping[str, t.Any] | None = None,
    ) -> None:
        super().__init__(defaults if defaults is not None else {})
        self.root_path = root_path

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the Python config file named by an environment variable.

        A shortcut for ``from_pyfile(os.environ[variable_name])`` with a
        clearer error when the variable is missing.

        :param variable_name: The environment variable holding the path.
        :param silent: Return ``False`` instead of raising when the variable
            is unset or empty, or the file does not exist.
        :return: ``True`` if a file was loaded, ``False`` if skipped.
        :raises RuntimeError: If the variable is unset or empty and
            ``silent`` is false.
        :raises OSError: As :meth:`from_pyfile`.
        """
        path = os.environ.get(variable_name)
        if not path:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set, so"
                " no configuration could be loaded from it. Set it to the"
                " path of a configuration file, or pass silent=True to"
                " make it optional."
            )
        return self.from_pyfile(path, silent=silent)

    def from_prefixed_env(
        self,
        prefix: str | None = None,
        *,
        loads: t.Callable[[str], t.Any] = json.loads,
    ) -> bool:
        """Load environment variables whose names start with ``{prefix}_``.

        The prefix and its underscore are dropped to form the config key:
        ``DEMIJOHN_SECRET_KEY`` sets ``SECRET_KEY``. Each value is passed to
        ``loads``; if that raises, the plain string is kept. With the default
        :func:`json.loads`, ``"42"`` becomes an int, ``"true"`` a bool and
        ``'{"a": 1}'`` a dict, while ``"hello"`` stays a string.

        A double underscore sets a key inside a nested dict:
        ``DEMIJOHN_DB__HOST`` sets ``config["DB"]["HOST"]``, creating empty
        dicts for missing intermediate keys. Variables are applied in sorted
        order, so the result does not depend on the environment's order.

        Without a ``prefix``, Flask's ``FLASK_`` variables are loaded first
        and demijohn's ``DEMIJOHN_`` ones after them, so an application moved
        from Flask keeps its settings and ``DEMIJOHN_X`` wins over
        ``FLASK_X``.

        :param prefix: The prefix to look for, without the trailing ``_``;
            ``None`` for both ``FLASK`` and ``DEMIJOHN``.
        :param loads: Converts each string value; any exception it raises
            leaves the value as a string.
        :return: Always ``True``.
        :raises TypeError: If a nested key passes through an existing value
            that is not a dict.
        """
        prefixes = (FLASK_PREFIX, PREFIX) if prefix is None else (prefix,)
        env_keys = sorted(os.environ)
        for each in prefixes:
            start = f"{each}_"
            for env_key in env_keys:
                if env_key.startswith(start):
                    value = _load_or_keep(loads, os.environ[env_key])
                    self._set_nested(env_key[len(start) :].split("__"), value)
        return True

    def _set_nested(self, path: list[str], value: t.Any) -> None:
        """Set ``value`` at the key path, creating dicts on the way."""
        target: t.MutableMapping[str, t.Any] = self
        *parents, leaf = path
        for part in parents:
            child = target.setdefault(part, {})
            if not isinstance(child, t.MutableMapping):
                raise TypeError(
                    f"Cannot set nested config key {'__'.join(path)!r}:"
                    f" {part!r} holds a {type(child).__name__}, not a dict."
                )
            target = child
        target[leaf] = value

    def from_pyfile(
        self, filename: str | os.PathLike[str], silent: bool = False
    ) -> bool:
        """Run a Python file and load its uppercase names into the config.

        The file is executed as a fresh module (with ``__file__`` set), then
        passed to :meth:`from_object`.

        :param filename: An absolute path, or one relative to
            :attr:`root_path`.
        :param silent: Return ``False`` instead of raising when the file does
            not exist or is a directory.
        :return: ``True`` if the file was loaded, ``False`` if skipped.
        :raises OSError: If the file cannot be read (unless ``silent`` and it
            is missing); the message starts with "Unable to load
            configuration file" and the error names the file.
        """
        path = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = path
        try:
            with open(path, mode="rb") as f:
                source = f.read()
        except OSError as e:
            if silent and e.errno in _MISSING_PYFILE_ERRNOS:
                return False
            _explain_load_error(e)
            raise
        exec(compile(source, path, "exec"), module.__dict__)
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Copy the uppercase attributes of a module, class or object.

        Useful for defaults kept in code. A :class:`dict` does not work here
        (its keys are not attributes); use :meth:`from_mapping` for that. A
        class with properties must be instantiated first.

        :param obj: The object, or an import string such as
            ``"myapp.settings"`` or ``"myapp.settings:Production"``.
        :raises ImportError: If an import string cannot be imported
            (:class:`werkzeug.utils.ImportStringError`).
        """
        if isinstance(obj, str):
            obj = import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: t.Callable[[t.IO[t.Any]], t.Mapping[str, t.Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a data file with ``load`` and apply it with :meth:`from_mapping`.

        ::

            app.config.from_file("config.json", load=json.load)
            app.config.from_file("config.toml", load=tomllib.load, text=False)

        :param filename: An absolute path, or one relative to
            :attr:`root_path`.
        :param load: Called with the open file; returns a mapping.
        :param silent: Return ``False`` instead of raising when the file does
            not exist or is a directory.
        :param text: Open the file in text mode; pass ``False`` for loaders
            that need bytes, such as :func:`tomllib.load`.
        :return: ``True`` if the file was loaded, ``False`` if skipped.
        :raises OSError: If the file cannot be read (unless ``silent`` and it
            is missing); the message starts with "Unable to load
            configuration file" and the error names the file.
        """
        path = os.path.join(self.root_path, filename)
        try:
            with open(path, "r" if text else "rb") as f:
                data = load(f)
        except OSError as e:
            if silent and e.errno in _MISSING_DATAFILE_ERRNOS:
                return False
            _explain_load_error(e)
            raise
        return self.from_mapping(data)

    def from_mapping(
        self, mapping: t.Mapping[str, t.Any] | None = None, **kwargs: t.Any
    ) -> bool:
        """Update the config like :meth:`dict.update`, skipping lowercase keys.

        :param mapping: Keys and values to apply first.
        :param kwargs: Keys and values applied after ``mapping``.
        :return: Always ``True``.
        """
        merged: dict[str, t.Any] = dict(mapping) if mapping is not None else {}
        merged.update(kwargs)
        self.update((k, v) for k, v in merged.items() if k.isupper())
        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, t.Any]:
        """Return the keys that start with ``namespace``, as a new dict.

        Handy when a group of options maps onto a function's arguments::

            app.config["CACHE_TYPE"] = "redis"
            app.config["CACHE_TIMEOUT"] = 60
            app.config.get_namespace("CACHE_")
            # {"type": "redis", "timeout": 60}

        :param namespace: The key prefix to select, usually ending in ``_``.
        :param lowercase: Lowercase the returned keys.
        :param trim_namespace: Drop the prefix from the returned keys.
        :return: A new dict; changing it does not change the config.
        """
        selected: dict[str, t.Any] = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            new_key = key[len(namespace) :] if trim_namespace else key
            selected[new_key.lower() if lowercase else new_key] = value
        return selected

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


def _load_or_keep(loads: t.Callable[[str], t.Any], raw: str) -> t.Any:
    """Return ``loads(raw)``, or ``raw`` itself if it cannot be parsed."""
    try:
        return loads(raw)
    except Exception:
        # Most env values are plain strings ("production", a URL); failing
        # to parse them is the normal case, not an error.
        return raw


def _explain_load_error(error: OSError) -> None:
    """Reword ``error`` so the traceback says a config file failed to load."""
    # Changing strerror keeps the errno and filename, so callers can still
    # inspect the error, and str(error) reads "[Errno 2] Unable to load
    # configuration file (No such file or directory): '/path'".
    error.strerror = f"Unable to load configuration file ({error.strerror})"
