from __future__ import annotations

import errno
import json
import os
import sys
import textwrap
import typing as t
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.utils import ImportStringError

from demijohn.config import DEFAULT_CONFIG, Config, ConfigAttribute, _make_timedelta

# --- DEFAULT_CONFIG ---------------------------------------------------------


def test_default_config_matches_flask() -> None:
    flask_app = pytest.importorskip("flask.app")
    assert dict(flask_app.Flask.default_config) == DEFAULT_CONFIG


def test_default_config_selected_values() -> None:
    assert DEFAULT_CONFIG["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
    assert DEFAULT_CONFIG["APPLICATION_ROOT"] == "/"
    assert DEFAULT_CONFIG["MAX_FORM_MEMORY_SIZE"] == 500_000
    assert DEFAULT_CONFIG["MAX_FORM_PARTS"] == 1_000
    assert DEFAULT_CONFIG["MAX_COOKIE_SIZE"] == 4093
    assert DEFAULT_CONFIG["PROVIDE_AUTOMATIC_OPTIONS"] is True
    assert DEFAULT_CONFIG["TESTING"] is False
    assert DEFAULT_CONFIG["DEBUG"] is None


def test_config_from_defaults_is_a_copy() -> None:
    config = Config(".", DEFAULT_CONFIG)
    config["TESTING"] = True
    assert DEFAULT_CONFIG["TESTING"] is False


# --- Config basics ----------------------------------------------------------


def test_config_is_a_dict_with_root_path(tmp_path: Path) -> None:
    config = Config(tmp_path, {"A": 1})
    assert isinstance(config, dict)
    assert config == {"A": 1}
    assert config.root_path == tmp_path


def test_config_without_defaults_is_empty() -> None:
    assert Config("/") == {}


def test_repr() -> None:
    config = Config("/", {"A": 1})
    assert repr(config) == "<Config {'A': 1}>"

    class MyConfig(Config):
        pass

    assert repr(MyConfig("/")) == "<MyConfig {}>"


# --- from_pyfile ------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_from_pyfile_relative_to_root_path(tmp_path: Path) -> None:
    write(
        tmp_path / "settings.py",
        """
        SECRET_KEY = "dev"
        DEBUG = True
        helper = "lowercase is ignored"
        COMPUTED = helper.upper()
        """,
    )
    config = Config(tmp_path)
    assert config.from_pyfile("settings.py") is True
    assert config == {
        "SECRET_KEY": "dev",
        "DEBUG": True,
        "COMPUTED": "LOWERCASE IS IGNORED",
    }


def test_from_pyfile_absolute_path_and_any_extension(tmp_path: Path) -> None:
    path = write(tmp_path / "app.cfg", "VALUE = 42\n")
    config = Config("/somewhere/else")
    assert config.from_pyfile(str(path)) is True
    assert config["VALUE"] == 42


def test_from_pyfile_accepts_pathlike(tmp_path: Path) -> None:
    path = write(tmp_path / "settings.py", "VALUE = 1\n")
    config = Config(tmp_path)
    config.from_pyfile(path)
    assert config["VALUE"] == 1


def test_from_pyfile_sets_dunder_file(tmp_path: Path) -> None:
    write(tmp_path / "settings.py", "WHERE = __file__\n")
    config = Config(tmp_path)
    config.from_pyfile("settings.py")
    assert config["WHERE"] == str(tmp_path / "settings.py")


def test_from_pyfile_missing_raises_naming_file(tmp_path: Path) -> None:
    config = Config(tmp_path)
    with pytest.raises(OSError) as exc_info:
        config.from_pyfile("missing.py")
    error = exc_info.value
    assert error.errno == errno.ENOENT
    assert error.filename == str(tmp_path / "missing.py")
    message = str(error)
    assert "Unable to load configuration file (" in message
    assert "missing.py" in message


def test_from_pyfile_missing_silent_returns_false(tmp_path: Path) -> None:
    config = Config(tmp_path, {"KEEP": 1})
    assert config.from_pyfile("missing.py", silent=True) is False
    assert config == {"KEEP": 1}


def test_from_pyfile_directory_silent_returns_false(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    config = Config(tmp_path)
    assert config.from_pyfile("adir", silent=True) is False


def test_from_pyfile_not_a_directory_silent_returns_false(tmp_path: Path) -> None:
    write(tmp_path / "file.py", "X = 1\n")
    config = Config(tmp_path)
    assert config.from_pyfile("file.py/child.py", silent=True) is False


def deny_open(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    raise PermissionError(errno.EACCES, "Permission denied", args[0])


@pytest.mark.parametrize("loader", ["from_pyfile", "from_file"])
def test_other_os_errors_raise_even_if_silent(
    loader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only "no such file" is optional; a file that exists but cannot be read
    # is a deployment mistake the user must see.
    import demijohn.config

    monkeypatch.setattr(demijohn.config, "open", deny_open, raising=False)
    config = Config(tmp_path)
    with pytest.raises(PermissionError) as exc_info:
        if loader == "from_pyfile":
            config.from_pyfile("settings.py", silent=True)
        else:
            config.from_file("settings.json", load=json.load, silent=True)
    assert exc_info.value.errno == errno.EACCES
    assert str(exc_info.value).startswith(
        "[Errno 13] Unable to load configuration file (Permission denied)"
    )


def test_from_pyfile_syntax_error_propagates(tmp_path: Path) -> None:
    write(tmp_path / "broken.py", "X = (\n")
    config = Config(tmp_path)
    with pytest.raises(SyntaxError):
        config.from_pyfile("broken.py", silent=True)


# --- from_envvar ------------------------------------------------------------


def test_from_envvar_loads_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "settings.py", "FROM_ENV = 'yes'\n")
    monkeypatch.setenv("MYAPP_SETTINGS", str(path))
    config = Config("/")
    assert config.from_envvar("MYAPP_SETTINGS") is True
    assert config["FROM_ENV"] == "yes"


def test_from_envvar_unset_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYAPP_SETTINGS", raising=False)
    config = Config("/")
    with pytest.raises(RuntimeError) as exc_info:
        config.from_envvar("MYAPP_SETTINGS")
    message = str(exc_info.value)
    assert "'MYAPP_SETTINGS'" in message
    assert "not set" in message


def test_from_envvar_empty_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYAPP_SETTINGS", "")
    with pytest.raises(RuntimeError, match="MYAPP_SETTINGS"):
        Config("/").from_envvar("MYAPP_SETTINGS")


def test_from_envvar_unset_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MYAPP_SETTINGS", raising=False)
    config = Config("/")
    assert config.from_envvar("MYAPP_SETTINGS", silent=True) is False
    assert config == {}


def test_from_envvar_missing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MYAPP_SETTINGS", str(tmp_path / "nope.py"))
    config = Config("/")
    with pytest.raises(OSError, match=r"Unable to load configuration file.*nope\.py"):
        config.from_envvar("MYAPP_SETTINGS")
    assert config.from_envvar("MYAPP_SETTINGS", silent=True) is False


# --- from_prefixed_env ------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith(("DEMIJOHN_", "FLASK_", "MYAPP_")):
            monkeypatch.delenv(key)
    return monkeypatch


def test_from_prefixed_env_parses_json(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DEMIJOHN_STRING", "hello")
    clean_env.setenv("DEMIJOHN_INT", "42")
    clean_env.setenv("DEMIJOHN_FLOAT", "1.5")
    clean_env.setenv("DEMIJOHN_BOOL", "true")
    clean_env.setenv("DEMIJOHN_NULL", "null")
    clean_env.setenv("DEMIJOHN_LIST", "[1, 2]")
    clean_env.setenv("DEMIJOHN_DICT", '{"k": "v"}')
    clean_env.setenv("DEMIJOHN_QUOTED", '"42"')
    clean_env.setenv("NOT_DEMIJOHN_X", "1")
    clean_env.setenv("DEMIJOHNX", "1")
    config = Config("/")
    assert config.from_prefixed_env() is True
    assert config == {
        "STRING": "hello",
        "INT": 42,
        "FLOAT": 1.5,
        "BOOL": True,
        "NULL": None,
        "LIST": [1, 2],
        "DICT": {"k": "v"},
        "QUOTED": "42",
    }


def test_from_prefixed_env_reads_flask_variables_too(
    clean_env: pytest.MonkeyPatch,
) -> None:
    # A Flask deployment's FLASK_* settings keep working; where both
    # spellings set a key, DEMIJOHN_* wins.
    clean_env.setenv("FLASK_SECRET_KEY", "from-flask")
    clean_env.setenv("FLASK_PORT", "8000")
    clean_env.setenv("FLASK_DB__HOST", "flask.local")
    clean_env.setenv("DEMIJOHN_PORT", "9000")
    clean_env.setenv("DEMIJOHN_DB__USER", "dj")
    config = Config("/")
    config.from_prefixed_env()
    assert config == {
        "SECRET_KEY": "from-flask",
        "PORT": 9000,
        "DB": {"HOST": "flask.local", "USER": "dj"},
    }


def test_from_prefixed_env_with_a_prefix_reads_only_that_prefix(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("FLASK_A", "1")
    clean_env.setenv("DEMIJOHN_B", "2")
    flask_only = Config("/")
    flask_only.from_prefixed_env("FLASK")
    assert flask_only == {"A": 1}
    demijohn_only = Config("/")
    demijohn_only.from_prefixed_env("DEMIJOHN")
    assert demijohn_only == {"B": 2}


def test_from_prefixed_env_custom_prefix(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MYAPP_SECRET_KEY", "s3cr3t")
    clean_env.setenv("DEMIJOHN_OTHER", "1")
    config = Config("/")
    config.from_prefixed_env("MYAPP")
    assert config == {"SECRET_KEY": "s3cr3t"}


def test_from_prefixed_env_custom_loads(clean_env: pytest.MonkeyPatch) -> None:
    def loads(value: str) -> t.Any:
        if value == "bad":
            raise ValueError(value)
        return value.upper()

    clean_env.setenv("DEMIJOHN_A", "abc")
    clean_env.setenv("DEMIJOHN_B", "bad")
    config = Config("/")
    config.from_prefixed_env(loads=loads)
    assert config == {"A": "ABC", "B": "bad"}


def test_from_prefixed_env_nested(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DEMIJOHN_EXIST__ok", "true")
    clean_env.setenv("DEMIJOHN_EXIST__inner__ik", "2")
    clean_env.setenv("DEMIJOHN_NEW__more", "new")
    config = Config("/", {"EXIST": {"ok": False, "flag": False, "inner": {}}})
    config.from_prefixed_env()
    assert config["EXIST"] == {"ok": True, "flag": False, "inner": {"ik": 2}}
    assert config["NEW"] == {"more": "new"}


def test_from_prefixed_env_creates_intermediate_dicts(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("DEMIJOHN_A__B__C", "1")
    config = Config("/")
    config.from_prefixed_env()
    assert config == {"A": {"B": {"C": 1}}}


def test_from_prefixed_env_sorted_order(clean_env: pytest.MonkeyPatch) -> None:
    # "DB" sorts before "DB__HOST", so the whole dict is replaced first and
    # the nested key is applied on top, whatever the environment order.
    clean_env.setenv("DEMIJOHN_DB__HOST", "db.local")
    clean_env.setenv("DEMIJOHN_DB", '{"HOST": "x", "PORT": 5432}')
    config = Config("/")
    config.from_prefixed_env()
    assert config["DB"] == {"HOST": "db.local", "PORT": 5432}


def test_from_prefixed_env_nested_through_non_dict(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("DEMIJOHN_NAME__SUB", "1")
    config = Config("/", {"NAME": "plain"})
    with pytest.raises(TypeError, match="NAME"):
        config.from_prefixed_env()


# --- from_object ------------------------------------------------------------


def test_from_object_class() -> None:
    class Settings:
        SECRET_KEY = "key"
        DEBUG = True
        lower = "ignored"
        MixedCase = "ignored"

    config = Config("/")
    assert config.from_object(Settings) is None  # type: ignore[func-returns-value]
    assert config == {"SECRET_KEY": "key", "DEBUG": True}


def test_from_object_inherited_attributes() -> None:
    class Base:
        DEBUG = False
        DATABASE = "sqlite://"

    class Development(Base):
        DEBUG = True

    config = Config("/")
    config.from_object(Development())
    assert config == {"DEBUG": True, "DATABASE": "sqlite://"}


def test_from_object_import_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "demijohn_test_settings.py",
        """
        VALUE = "module"
        other = "ignored"

        class Production:
            VALUE = "class"
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "demijohn_test_settings", raising=False)

    config = Config("/")
    config.from_object("demijohn_test_settings")
    assert config == {"VALUE": "module"}

    config.from_object("demijohn_test_settings:Production")
    assert config == {"VALUE": "class"}
    config.from_object("demijohn_test_settings.Production")
    assert config == {"VALUE": "class"}


def test_from_object_bad_import_string() -> None:
    with pytest.raises(ImportStringError):
        Config("/").from_object("no_such_module_for_demijohn.settings")


def test_from_object_dict_loads_nothing() -> None:
    config = Config("/")
    config.from_object({"KEY": "value"})
    assert config == {}


# --- from_file --------------------------------------------------------------


def test_from_file_json(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"SECRET_KEY": "json", "lower": 1, "NESTED": {"a": 1}})
    )
    config = Config(tmp_path)
    assert config.from_file("config.json", load=json.load) is True
    assert config == {"SECRET_KEY": "json", "NESTED": {"a": 1}}


def test_from_file_toml_binary(tmp_path: Path) -> None:
    tomllib = pytest.importorskip("tomllib")
    write(
        tmp_path / "config.toml",
        """
        SECRET_KEY = "toml"
        lower = 1

        [DATABASE]
        port = 5432
        """,
    )
    config = Config(tmp_path)
    assert config.from_file("config.toml", load=tomllib.load, text=False) is True
    assert config == {"SECRET_KEY": "toml", "DATABASE": {"port": 5432}}


def test_from_file_toml_needs_binary_mode(tmp_path: Path) -> None:
    tomllib = pytest.importorskip("tomllib")
    write(tmp_path / "config.toml", 'A = "b"\n')
    with pytest.raises(TypeError):
        Config(tmp_path).from_file("config.toml", load=tomllib.load)


def test_from_file_passes_open_file(tmp_path: Path) -> None:
    write(tmp_path / "data.txt", "KEY=value\n")
    seen: list[t.IO[t.Any]] = []

    def load(f: t.IO[t.Any]) -> t.Mapping[str, t.Any]:
        seen.append(f)
        key, _, value = f.read().strip().partition("=")
        return {key: value}

    config = Config(tmp_path)
    config.from_file(tmp_path / "data.txt", load=load)
    assert config == {"KEY": "value"}
    assert seen[0].closed


def test_from_file_missing_raises_naming_file(tmp_path: Path) -> None:
    config = Config(tmp_path)
    with pytest.raises(OSError) as exc_info:
        config.from_file("missing.json", load=json.load)
    assert exc_info.value.errno == errno.ENOENT
    assert exc_info.value.filename == str(tmp_path / "missing.json")
    assert "Unable to load configuration file (" in str(exc_info.value)
    assert "missing.json" in str(exc_info.value)


def test_from_file_missing_silent(tmp_path: Path) -> None:
    config = Config(tmp_path)
    assert config.from_file("missing.json", load=json.load, silent=True) is False
    (tmp_path / "adir").mkdir()
    assert config.from_file("adir", load=json.load, silent=True) is False
    assert config == {}


def test_from_file_parse_error_propagates(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(json.JSONDecodeError):
        Config(tmp_path).from_file("bad.json", load=json.load, silent=True)


# --- from_mapping -----------------------------------------------------------


def test_from_mapping_mapping_and_kwargs() -> None:
    config = Config("/")
    assert config.from_mapping({"A": 1, "b": 2, "C": 3}, C=4, D=5, e=6) is True
    assert config == {"A": 1, "C": 4, "D": 5}


def test_from_mapping_no_arguments() -> None:
    config = Config("/", {"A": 1})
    assert config.from_mapping() is True
    assert config == {"A": 1}


def test_from_mapping_kwargs_only() -> None:
    config = Config("/")
    config.from_mapping(SECRET_KEY="k", lower="x")
    assert config == {"SECRET_KEY": "k"}


def test_from_mapping_rejects_non_mapping() -> None:
    with pytest.raises((TypeError, ValueError)):
        Config("/").from_mapping(1)  # type: ignore[arg-type]


# --- get_namespace ----------------------------------------------------------


@pytest.fixture
def namespaced() -> Config:
    return Config(
        "/",
        {
            "FOO_OPTION_1": "foo option 1",
            "FOO_OPTION_2": "foo option 2",
            "BAR_STUFF_1": "bar stuff 1",
            "FOO": "no trailing underscore",
        },
    )


def test_get_namespace_defaults(namespaced: Config) -> None:
    assert namespaced.get_namespace("FOO_") == {
        "option_1": "foo option 1",
        "option_2": "foo option 2",
    }
    assert namespaced.get_namespace("BAR_") == {"stuff_1": "bar stuff 1"}


def test_get_namespace_keep_case(namespaced: Config) -> None:
    assert namespaced.get_namespace("FOO_", lowercase=False) == {
        "OPTION_1": "foo option 1",
        "OPTION_2": "foo option 2",
    }


def test_get_namespace_keep_prefix(namespaced: Config) -> None:
    assert namespaced.get_namespace("FOO_", trim_namespace=False) == {
        "foo_option_1": "foo option 1",
        "foo_option_2": "foo option 2",
    }
    assert namespaced.get_namespace("BAR_", lowercase=False, trim_namespace=False) == {
        "BAR_STUFF_1": "bar stuff 1"
    }


def test_get_namespace_no_match_and_copy(namespaced: Config) -> None:
    assert namespaced.get_namespace("NOPE_") == {}
    result = namespaced.get_namespace("BAR_")
    result["stuff_1"] = "changed"
    assert namespaced["BAR_STUFF_1"] == "bar stuff 1"


# --- ConfigAttribute and _make_timedelta ------------------------------------


class Holder:
    secret_key = ConfigAttribute[str | None]("SECRET_KEY")
    lifetime = ConfigAttribute[timedelta](
        "PERMANENT_SESSION_LIFETIME", get_converter=_make_timedelta
    )

    def __init__(self, **config: t.Any) -> None:
        self.config: dict[str, t.Any] = config


def test_config_attribute_reads_and_writes_config() -> None:
    holder = Holder(SECRET_KEY="a")
    assert holder.secret_key == "a"
    holder.config["SECRET_KEY"] = "b"
    assert holder.secret_key == "b"
    holder.secret_key = "c"
    assert holder.config["SECRET_KEY"] == "c"
    assert "secret_key" not in vars(holder)


def test_config_attribute_missing_key_raises() -> None:
    with pytest.raises(KeyError, match="SECRET_KEY"):
        _ = Holder().secret_key


def test_config_attribute_converter_applies_on_read_only() -> None:
    holder = Holder(PERMANENT_SESSION_LIFETIME=60)
    assert holder.lifetime == timedelta(seconds=60)
    holder.lifetime = 120
    assert holder.config["PERMANENT_SESSION_LIFETIME"] == 120
    assert holder.lifetime == timedelta(minutes=2)
    holder.lifetime = timedelta(days=1)
    assert holder.lifetime == timedelta(days=1)


def test_config_attribute_on_class_returns_descriptor() -> None:
    descriptor = Holder.__dict__["lifetime"]
    assert Holder.lifetime is descriptor
    assert isinstance(descriptor, ConfigAttribute)
    assert descriptor.__name__ == "PERMANENT_SESSION_LIFETIME"
    assert descriptor.get_converter is _make_timedelta
    assert Holder.__dict__["secret_key"].get_converter is None
    assert "PERMANENT_SESSION_LIFETIME" in repr(descriptor)


def test_config_attribute_with_config_object() -> None:
    class App:
        testing = ConfigAttribute[bool]("TESTING")

        def __init__(self) -> None:
            self.config = Config("/", DEFAULT_CONFIG)

    app = App()
    assert app.testing is False
    app.testing = True
    assert app.config["TESTING"] is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (0, timedelta(0)),
        (3600, timedelta(hours=1)),
        (1.5, timedelta(seconds=1.5)),
        (timedelta(days=2), timedelta(days=2)),
    ],
)
def test_make_timedelta(value: t.Any, expected: timedelta | None) -> None:
    assert _make_timedelta(value) == expected


def test_make_timedelta_returns_same_timedelta() -> None:
    value = timedelta(days=3)
    assert _make_timedelta(value) is value
