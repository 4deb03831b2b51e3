"""Blueprints: groups of routes, hooks and error handlers that are defined
without an application and registered on one later, possibly several
times and nested in each other.

A :class:`Blueprint` records what is declared on it. Routes become
*deferred functions*, called with a :class:`BlueprintSetupState` when the
blueprint is registered; hooks and error handlers are kept in the
:class:`~demijohn.scaffold.Scaffold` registries and copied into the
application's registries under the blueprint's registered (dotted) name,
where the application finds them for requests to the blueprint's
endpoints.

Rules for this module: nothing here handles requests; registration only
writes to the application's registries, URL map and CLI group.
"""

from __future__ import annotations

import os
import typing as t
from collections import defaultdict
from functools import update_wrapper

from . import typing as ft
from .cli_loading import AppGroup as AppGroup
from .globals import current_app as current_app
from .helpers import send_from_directory as send_from_directory
from .scaffold import Scaffold, _endpoint_from_view_func, setupmethod

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .app import Demijohn

#: A function :meth:`Blueprint.record` keeps, called with the setup state
#: each time the blueprint is registered.
DeferredSetupFunction = t.Callable[["BlueprintSetupState"], None]

T_after_request = t.TypeVar("T_after_request", bound=ft.AfterRequestCallable[t.Any])
T_before_request = t.TypeVar("T_before_request", bound=ft.BeforeRequestCallable)
T_error_handler = t.TypeVar("T_error_handler", bound=ft.ErrorHandlerCallable)
T_teardown = t.TypeVar("T_teardown", bound=ft.TeardownCallable)
T_template_context_processor = t.TypeVar(
    "T_template_context_processor", bound=ft.TemplateContextProcessorCallable
)
T_template_filter = t.TypeVar("T_template_filter", bound=ft.TemplateFilterCallable)
T_template_global = t.TypeVar("T_template_global", bound=ft.TemplateGlobalCallable)
T_template_test = t.TypeVar("T_template_test", bound=ft.TemplateTestCallable)
T_url_defaults = t.TypeVar("T_url_defaults", bound=ft.URLDefaultCallable)
T_url_value_preprocessor = t.TypeVar(
    "T_url_value_preprocessor", bound=ft.URLValuePreprocessorCallable
)

# ``cli_group=None`` has a meaning of its own (merge the commands into the
# application's group), so "not given" needs a distinct marker.
_DEFAULT_CLI_GROUP: t.Any = object()


class BlueprintSetupState:
    """What a deferred function needs to register one blueprint on one
    application: created by :meth:`Blueprint.make_setup_state` each time
    the blueprint is registered, and passed to every function recorded
    with :meth:`Blueprint.record`.

    :param blueprint: The blueprint being registered.
    :param app: The application it is registered on.
    :param options: The keyword arguments given to
        :meth:`~demijohn.Demijohn.register_blueprint` (plus ``name_prefix``
        for a nested blueprint).
    :param first_registration: Whether this blueprint object was not yet
        registered on this application.
    """

    def __init__(
        self,
        blueprint: Blueprint,
        app: Demijohn,
        options: t.Any,
        first_registration: bool,
    ) -> None:
        #: The application the blueprint is registered on.
        self.app = app
        #: The blueprint being registered.
        self.blueprint = blueprint
        #: The options given to :meth:`~demijohn.Demijohn.register_blueprint`.
        self.options = options
        #: Whether this is the first time this blueprint object is
        #: registered on :attr:`app`; :meth:`Blueprint.record_once` uses it
        #: to skip work that must happen only once.
        self.first_registration = first_registration

        subdomain = options.get("subdomain")
        #: The subdomain the blueprint's routes match: the option, else the
        #: blueprint's own ``subdomain``, else ``None``.
        self.subdomain: str | None = (
            blueprint.subdomain if subdomain is None else subdomain
        )
        url_prefix = options.get("url_prefix")
        #: The path prepended to the blueprint's rules: the option, else the
        #: blueprint's own ``url_prefix``, else ``None``.
        self.url_prefix: str | None = (
            blueprint.url_prefix if url_prefix is None else url_prefix
        )
        #: The name the blueprint is registered under, without its parents.
        self.name: str = options.get("name", blueprint.name)
        #: The dotted name of the parent blueprints, or ``""`` at the top.
        self.name_prefix: str = options.get("name_prefix", "")
        #: Defaults added to every rule: the blueprint's ``url_defaults``
        #: updated with the ``url_defaults`` option.
        self.url_defaults: dict[str, t.Any] = dict(blueprint.url_values_defaults)
        self.url_defaults.update(options.get("url_defaults", ()))

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        **options: t.Any,
    ) -> None:
        """Add a rule of the blueprint to the application.

        The rule is prefixed with :attr:`url_prefix` (an empty rule becomes
        the prefix itself), the endpoint with the dotted registered name,
        the ``subdomain`` option defaults to :attr:`subdomain`, and the
        rule's ``defaults`` are merged over :attr:`url_defaults`. Then it
        calls :meth:`~demijohn.Demijohn.add_url_rule`, which may raise what
        that method raises.
        """
        if self.url_prefix is not None:
            rule = _join_url_prefix(self.url_prefix, rule)
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        defaults = dict(self.url_defaults)
        defaults.update(options.pop("defaults", None) or {})
        full_endpoint = f"{self.name_prefix}.{self.name}.{endpoint}".lstrip(".")
        self.app.add_url_rule(
            rule, full_endpoint, view_func, defaults=defaults, **options
        )


def _join_url_prefix(prefix: str, rule: str) -> str:
    """``prefix`` and ``rule`` joined by exactly one slash; an empty rule
    leaves the prefix unchanged, so ``""`` routes to the prefix itself.
    """
    if not rule:
        return prefix
    return f"{prefix.rstrip('/')}/{rule.lstrip('/')}"


def _join_subdomains(inner: str | None, outer: str | None) -> str | None:
    """The subdomain of a nested blueprint: its own in front of its
    parent's (``"api"`` in ``"v1"`` is ``"api.v1"``).
    """
    if inner is not None and outer is not None:
        return f"{inner}.{outer}"
    return inner if inner is not None else outer


def _join_prefixes(outer: str | None, inner: str | None) -> str | None:
    """The URL prefix of a nested blueprint: its parent's, then its own."""
    if outer is not None and inner is not None:
        return f"{outer.rstrip('/')}/{inner.lstrip('/')}"
    return inner if inner is not None else outer


class Blueprint(Scaffold):
    """A group of routes, hooks, error handlers, templates, static files
    and CLI commands, declared with the same decorators as the application
    and added to an application by
    :meth:`~demijohn.Demijohn.register_blueprint`.

    Hooks and error handlers declared on a blueprint apply only to requests
    whose endpoint belongs to it (or to a blueprint nested in it); the
    ``app_*`` variants apply to every request. A 404 for a URL that matches
    no rule belongs to no blueprint, so only the application's handler can
    answer it.

    :param name: The blueprint's name, prepended (with a dot) to its
        endpoint names. Must be non-empty and contain no dot.
    :param import_name: The blueprint's module, usually ``__name__``; it
        locates :attr:`root_path`.
    :param static_folder: A folder of static files, relative to the root
        path, served at ``static_url_path`` under the blueprint's URL
        prefix with the endpoint ``"<name>.static"``. Off by default.
    :param static_url_path: The URL of the static route; defaults to ``/``
        plus the folder name. Without a ``url_prefix`` the application's
        own static route takes precedence.
    :param template_folder: A folder of templates, relative to the root
        path, searched after the application's templates.
    :param url_prefix: A path prepended to every rule of the blueprint.
    :param subdomain: The subdomain the blueprint's rules match by default.
    :param url_defaults: Default view arguments for every rule.
    :param root_path: The folder that relative paths start from; found
        from ``import_name`` when not given.
    :param cli_group: The name of the group that the commands of
        :attr:`cli` appear under in the ``demijohn`` command. Defaults to
        the blueprint's registered name; ``None`` adds the commands to the
        application's group directly.
    :raises ValueError: if ``name`` is empty or contains a dot.
    """

    #: Set once the blueprint has been registered; setup methods then
    #: refuse to run, because later changes would reach only some of the
    #: applications it was registered on.
    _got_registered_once = False

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, t.Any] | None = None,
        root_path: str | None = None,
        cli_group: str | None = _DEFAULT_CLI_GROUP,
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if not name:
            raise ValueError("'name' may not be empty.")
        if "." in name:
            raise ValueError("'name' may not contain a dot '.' character.")
        #: The blueprint's name; the registered name can differ (``name=``).
        self.name = name
        #: The URL prefix of every rule, unless registration overrides it.
        self.url_prefix = url_prefix
        #: The default subdomain of every rule, unless overridden.
        self.subdomain = subdomain
        #: Default view arguments for every rule.
        self.url_values_defaults: dict[str, t.Any] = (
            {} if url_defaults is None else url_defaults
        )
        #: The name of the CLI group; see the ``cli_group`` parameter.
        self.cli_group = cli_group
        #: Functions called with the setup state at every registration.
        self.deferred_functions: list[DeferredSetupFunction] = []
        # Nested blueprints and their options, registered after this one.
        self._blueprints: list[tuple[Blueprint, dict[str, t.Any]]] = []
        # The group is added to the application's under its registered
        # name, or ``cli_group``; this is its name until then.
        self.cli.name = self.name

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the"
                f" blueprint '{self.name}'. It has already been registered at"
                " least once, so the change would not be applied"
                " consistently.\nMake sure all imports, decorators, functions,"
                " etc. needed to set up the blueprint run before it is"
                " registered."
            )

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        """Open a file relative to :attr:`root_path` for reading.

        :param mode: ``"r"``, ``"rt"`` or ``"rb"``; writing is refused with
            :exc:`ValueError`.
        :param encoding: The text encoding in text mode; UTF-8 by default.
        """
        return super().open_resource(resource, mode, encoding)

    # -- deferred registration -------------------------------------------

    @setupmethod
    def record(self, func: DeferredSetupFunction) -> None:
        """Keep ``func`` to be called with a :class:`BlueprintSetupState`
        each time the blueprint is registered on an application.

        This is how everything application-side is deferred; extensions
        use it to act on the application a blueprint ends up on.
        """
        self.deferred_functions.append(func)

    @setupmethod
    def record_once(self, func: DeferredSetupFunction) -> None:
        """Like :meth:`record`, but ``func`` runs only the first time this
        blueprint is registered on a given application, not again when it
        is registered a second time under another name.
        """

        def call_on_first_registration(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(update_wrapper(call_on_first_registration, func))

    def make_setup_state(
        self,
        app: Demijohn,
        options: dict[str, t.Any],
        first_registration: bool = False,
    ) -> BlueprintSetupState:
        """Create the :class:`BlueprintSetupState` of one registration.

        Called by :meth:`register`. Override it to return a subclass of the
        setup state, e.g. one that adds options.
        """
        return BlueprintSetupState(self, app, options, first_registration)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Nest ``blueprint`` in this one.

        It is registered on the application when this blueprint is, with
        the dotted name ``"<parent>.<child>"``, its URL prefix appended to
        the parent's and its subdomain in front of the parent's. ``options``
        are those of :meth:`~demijohn.Demijohn.register_blueprint`.

        :raises ValueError: if ``blueprint`` is this blueprint.
        """
        if blueprint is self:
            raise ValueError("Cannot register a blueprint on itself")
        self._blueprints.append((blueprint, options))

    def register(self, app: Demijohn, options: dict[str, t.Any]) -> None:
        """Register the blueprint on ``app``; called by
        :meth:`~demijohn.Demijohn.register_blueprint` with its options.

        Adds the static route, copies the blueprint's hooks and error
        handlers into the application's registries under the registered
        name, calls every deferred function (which adds the routes), adds
        the CLI commands and registers the nested blueprints. After this
        the blueprint's setup methods refuse to run.

        :param options: ``url_prefix``, ``subdomain``, ``url_defaults``,
            ``name`` and ``cli_group`` override the blueprint's own values;
            ``name_prefix`` is set for nested blueprints.
        :raises ValueError: if the registered name is already taken, even by
            this same blueprint; pass ``name=`` to register it again.
        """
        name_prefix = options.get("name_prefix", "")
        self_name = options.get("name", self.name)
        name = f"{name_prefix}.{self_name}".lstrip(".")
        self._check_name_is_free(app, name, self_name)

        first_registration = all(bp is not self for bp in app.blueprints.values())
        app.blueprints[name] = self
        self._got_registered_once = True
        state = self.make_setup_state(app, options, first_registration)

        if self.has_static_folder:
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                view_func=self.send_static_file,
                endpoint="static",
            )
        self._merge_blueprint_funcs(app, name)
        for deferred in self.deferred_functions:
            deferred(state)
        self._register_cli(app, name, options)
        for blueprint, bp_options in self._blueprints:
            nested_options = _nested_options(state, name, blueprint, bp_options)
            blueprint.register(app, nested_options)

    def _check_name_is_free(self, app: Demijohn, name: str, self_name: str) -> None:
        existing = app.blueprints.get(name)
        if existing is None:
            return
        which = "this" if existing is self else "a different"
        # A nested name differs from the one the user passed; show both.
        where = f" '{name}'" if name != self_name else ""
        raise ValueError(
            f"The name '{self_name}' is already registered for {which}"
            f" blueprint{where}. Use 'name=' to provide a unique name."
        )

    def _merge_blueprint_funcs(self, app: Demijohn, name: str) -> None:
        """Copy the blueprint's registries into ``app``'s under ``name``."""

        def owner(key: ft.AppOrBlueprintKey) -> str:
            return name if key is None else f"{name}.{key}"

        def extend(
            own: t.Mapping[ft.AppOrBlueprintKey, list[t.Any]],
            target: t.MutableMapping[ft.AppOrBlueprintKey, list[t.Any]],
        ) -> None:
            for key, funcs in own.items():
                target.setdefault(owner(key), []).extend(funcs)

        for key, by_code in self.error_handler_spec.items():
            app.error_handler_spec[owner(key)] = _copy_handlers(by_code)
        # Endpoints given to ``Blueprint.endpoint`` are copied as they are,
        # as Flask does, so they must be the full dotted endpoint name.
        app.view_functions.update(self.view_functions)
        extend(self.before_request_funcs, app.before_request_funcs)
        extend(self.before_websocket_funcs, app.before_websocket_funcs)
        extend(self.after_request_funcs, app.after_request_funcs)
        extend(self.teardown_request_funcs, app.teardown_request_funcs)
        extend(self.url_default_functions, app.url_default_functions)
        extend(self.url_value_preprocessors, app.url_value_preprocessors)
        extend(self.template_context_processors, app.template_context_processors)

    def _register_cli(
        self, app: Demijohn, name: str, options: dict[str, t.Any]
    ) -> None:
        if not self.cli.commands:
            return
        group = options.get("cli_group", self.cli_group)
        if group is None:
            app.cli.commands.update(self.cli.commands)
            return
        self.cli.name = name if group is _DEFAULT_CLI_GROUP else group
        app.cli.add_command(self.cli)

    # -- routing -------------------------------------------------------------

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Record a URL rule, added to the application at registration.

        The rule is prefixed with the blueprint's URL prefix and the
        endpoint with its registered name, so ``url_for("bp.index")`` (or
        ``url_for(".index")`` inside the blueprint) builds it. Takes the
        arguments of :meth:`~demijohn.Demijohn.add_url_rule`.

        :raises ValueError: if ``endpoint`` or the view function's name
            contains a dot, which would be mistaken for a nested blueprint.
        """
        if endpoint and "." in endpoint:
            raise ValueError("'endpoint' may not contain a dot '.' character.")
        if view_func is not None and "." in getattr(view_func, "__name__", ""):
            raise ValueError("'view_func' name may not contain a dot '.' character.")

        def add_rule(state: BlueprintSetupState) -> None:
            state.add_url_rule(
                rule,
                endpoint,
                view_func,
                provide_automatic_options=provide_automatic_options,
                **options,
            )

        self.record(add_rule)

    # -- application-wide templates -----------------------------------------

    @setupmethod
    def app_template_filter(
        self, name: str | None = None
    ) -> t.Callable[[T_template_filter], T_template_filter]:
        """Decorate a function to register it as a Jinja filter of the
        whole application, named ``name`` or after the function; see
        :meth:`~demijohn.Demijohn.template_filter`.
        """

        def decorator(f: T_template_filter) -> T_template_filter:
            self.add_app_template_filter(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_app_template_filter(
        self, f: ft.TemplateFilterCallable, name: str | None = None
    ) -> None:
        """Register an application-wide Jinja filter without the decorator;
        see :meth:`app_template_filter`.
        """

        def register(state: BlueprintSetupState) -> None:
            state.app.jinja_env.filters[name or f.__name__] = f

        self.record_once(register)

    @setupmethod
    def app_template_test(
        self, name: str | None = None
    ) -> t.Callable[[T_template_test], T_template_test]:
        """Decorate a function to register it as a Jinja test of the whole
        application; see :meth:`~demijohn.Demijohn.template_test`.
        """

        def decorator(f: T_template_test) -> T_template_test:
            self.add_app_template_test(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_app_template_test(
        self, f: ft.TemplateTestCallable, name: str | None = None
    ) -> None:
        """Register an application-wide Jinja test without the decorator;
        see :meth:`app_template_test`.
        """

        def register(state: BlueprintSetupState) -> None:
            state.app.jinja_env.tests[name or f.__name__] = f

        self.record_once(register)

    @setupmethod
    def app_template_global(
        self, name: str | None = None
    ) -> t.Callable[[T_template_global], T_template_global]:
        """Decorate a function to make it a global of every template the
        application renders; see :meth:`~demijohn.Demijohn.template_global`.
        """

        def decorator(f: T_template_global) -> T_template_global:
            self.add_app_template_global(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_app_template_global(
        self, f: ft.TemplateGlobalCallable, name: str | None = None
    ) -> None:
        """Register an application-wide template global without the
        decorator; see :meth:`app_template_global`.
        """

        def register(state: BlueprintSetupState) -> None:
            state.app.jinja_env.globals[name or f.__name__] = f

        self.record_once(register)

    # -- application-wide hooks ----------------------------------------------

    @setupmethod
    def before_app_request(self, f: T_before_request) -> T_before_request:
        """Like :meth:`before_request`, but for every request of the
        application, as :meth:`~demijohn.Demijohn.before_request`.
        """
        self.record_once(
            lambda s: s.app.before_request_funcs.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def after_app_request(self, f: T_after_request) -> T_after_request:
        """Like :meth:`after_request`, but for every request of the
        application, as :meth:`~demijohn.Demijohn.after_request`.
        """
        self.record_once(
            lambda s: s.app.after_request_funcs.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def teardown_app_request(self, f: T_teardown) -> T_teardown:
        """Like :meth:`teardown_request`, but for every request of the
        application, as :meth:`~demijohn.Demijohn.teardown_request`.
        """
        self.record_once(
            lambda s: s.app.teardown_request_funcs.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def app_context_processor(
        self, f: T_template_context_processor
    ) -> T_template_context_processor:
        """Like :meth:`context_processor`, but for every template the
        application renders, as :meth:`~demijohn.Demijohn.context_processor`.
        """
        self.record_once(
            lambda s: s.app.template_context_processors.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def app_errorhandler(
        self, code: type[Exception] | int
    ) -> t.Callable[[T_error_handler], T_error_handler]:
        """Like :meth:`errorhandler`, but for errors of every request, as
        :meth:`~demijohn.Demijohn.errorhandler`. Unlike a blueprint's own
        handler, it can handle a 404 for a URL that matches no rule.

        :raises ValueError: for an unknown HTTP code or a non-exception
            (checked when the blueprint is registered).
        """

        def decorator(f: T_error_handler) -> T_error_handler:
            def register(state: BlueprintSetupState) -> None:
                state.app.register_error_handler(code, f)

            self.record_once(register)
            return f

        return decorator

    @setupmethod
    def app_url_value_preprocessor(
        self, f: T_url_value_preprocessor
    ) -> T_url_value_preprocessor:
        """Like :meth:`url_value_preprocessor`, but for every request, as
        :meth:`~demijohn.Demijohn.url_value_preprocessor`.
        """
        self.record_once(
            lambda s: s.app.url_value_preprocessors.setdefault(None, []).append(f)
        )
        return f

    @setupmethod
    def app_url_defaults(self, f: T_url_defaults) -> T_url_defaults:
        """Like :meth:`url_defaults`, but for every ``url_for`` call, as
        :meth:`~demijohn.Demijohn.url_defaults`.
        """
        self.record_once(
            lambda s: s.app.url_default_functions.setdefault(None, []).append(f)
        )
        return f


#: Flask's name for its protocol-independent blueprint base class. demijohn
#: has one blueprint class for both protocols, so it is :class:`Blueprint`.
SansioBlueprint = Blueprint


def _copy_handlers(
    by_code: t.Mapping[int | None, t.Mapping[type[Exception], ft.ErrorHandlerCallable]],
) -> dict[int | None, dict[type[Exception], ft.ErrorHandlerCallable]]:
    """A copy of one owner's error handlers that later changes to the
    blueprint do not reach.
    """
    copied: defaultdict[int | None, dict[type[Exception], ft.ErrorHandlerCallable]]
    copied = defaultdict(dict)
    for code, handlers in by_code.items():
        copied[code] = dict(handlers)
    return copied


def _nested_options(
    state: BlueprintSetupState,
    parent_name: str,
    blueprint: Blueprint,
    options: dict[str, t.Any],
) -> dict[str, t.Any]:
    """The options a nested blueprint is registered with: its own,
    with subdomain and URL prefix combined with the parent's and the
    parent's dotted name as ``name_prefix``.
    """
    options = options.copy()
    subdomain = options.get("subdomain")
    if subdomain is None:
        subdomain = blueprint.subdomain
    subdomain = _join_subdomains(subdomain, state.subdomain)
    if subdomain is not None:
        options["subdomain"] = subdomain
    url_prefix = options.get("url_prefix")
    if url_prefix is None:
        url_prefix = blueprint.url_prefix
    url_prefix = _join_prefixes(state.url_prefix, url_prefix)
    if url_prefix is not None:
        options["url_prefix"] = url_prefix
    options["name_prefix"] = parent_name
    return options
