"""Jinja integration: the environment, the loader that searches the
application and its blueprints, and the render functions.

The application creates its environment lazily
(:attr:`Demijohn.jinja_env <demijohn.Demijohn.jinja_env>`), through
:meth:`Demijohn.create_jinja_environment
<demijohn.Demijohn.create_jinja_environment>`, which a subclass may
override.
"""

from __future__ import annotations

import typing as t
from collections import ChainMap

from jinja2 import (
    BaseLoader,
    Template,  # also re-exported from here, as Flask does
    TemplateNotFound,
)
from jinja2 import Environment as BaseEnvironment
from jinja2.runtime import Context, new_context

from . import globals as _globals
from .globals import current_app
from .globals import request as request
from .helpers import stream_with_context
from .signals import before_render_template, template_rendered

if t.TYPE_CHECKING:  # pragma: no cover - imports for annotations only
    from .app import Demijohn
    from .scaffold import Scaffold

# PERF: bound by assignment, not imported (see demijohn.globals).
_cv_app = _globals._cv_app
_cv_request = _globals._cv_request

_Source = tuple[str, str | None, t.Callable[[], bool] | None]


def _default_template_ctx_processor() -> dict[str, t.Any]:
    """Add ``g`` and ``request`` to every template context, as the concrete
    objects rather than the proxies, since templates read them often.

    ``session`` is not added here, as in Flask: templates reach it through
    the environment's globals (the :data:`~demijohn.session` proxy), so
    rendering a template that does not read it leaves the session
    unaccessed and adds no ``Vary: Cookie``.
    """
    context: dict[str, t.Any] = {}
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        context["g"] = app_ctx.g
    request_ctx = _cv_request.get(None)
    if request_ctx is not None:
        context["request"] = request_ctx.request
    return context


class AppTemplate(Template):
    """The Jinja template class of the application's environment.

    Renders exactly as Jinja's :class:`jinja2.Template`.
    """

    def new_context(
        self,
        vars: dict[str, t.Any] | None = None,
        shared: bool = False,
        locals: t.Mapping[str, t.Any] | None = None,
    ) -> Context:
        """Create the render context, as Jinja does.

        PERF: Jinja copies the template's globals, a
        :class:`~collections.ChainMap` of the template's own and the
        environment's, into each render's context with one Python-level
        lookup per name (every ``url_for``, ``config``, ``range``...). The
        same dict built from the two plain dicts, in the same precedence, is
        a C-level merge.
        """
        template_globals = self.globals
        if (
            not shared
            and type(template_globals) is ChainMap
            and len(template_globals.maps) == 2
            and type(template_globals.maps[0]) is dict
            and type(template_globals.maps[1]) is dict
        ):
            own, shared_globals = template_globals.maps
            return new_context(
                self.environment,
                self.name,
                self.blocks,
                vars,
                shared,
                {**shared_globals, **own},
                locals,
            )
        return super().new_context(vars, shared, locals)


class Environment(BaseEnvironment):
    """A Jinja environment that knows its application.

    Its default loader is the application's
    :meth:`~demijohn.Demijohn.create_global_jinja_loader`; its templates
    are :class:`AppTemplate` objects.
    """

    template_class = AppTemplate

    def __init__(self, app: Demijohn, **options: t.Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        #: The application this environment renders for.
        self.app = app


class DispatchingJinjaLoader(BaseLoader):
    """Finds a template in the application's template folder first, then in
    each blueprint's, in registration order. The first match wins.

    With :data:`EXPLAIN_TEMPLATE_LOADING` on, every lookup logs where it
    searched, which helps when the wrong template is picked.
    """

    def __init__(self, app: Demijohn) -> None:
        self.app = app

    def get_source(self, environment: BaseEnvironment, template: str) -> _Source:
        """Return the first loader's source for ``template``.

        :raises TemplateNotFound: when no loader has it.
        """
        if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            return self._get_source_explained(environment, template)
        for _owner, loader in self._iter_loaders():
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(template)

    def _get_source_explained(
        self, environment: BaseEnvironment, template: str
    ) -> _Source:
        from .debughelpers import explain_template_loading_attempts

        attempts: list[tuple[BaseLoader, Scaffold, _Source | None]] = []
        found: _Source | None = None
        for owner, loader in self._iter_loaders():
            try:
                source: _Source | None = loader.get_source(environment, template)
            except TemplateNotFound:
                source = None
            if found is None:
                found = source
            attempts.append((loader, owner, source))
        explain_template_loading_attempts(self.app, template, attempts)
        if found is None:
            raise TemplateNotFound(template)
        return found

    def _iter_loaders(self) -> t.Iterator[tuple[Scaffold, BaseLoader]]:
        loader = self.app.jinja_loader
        if loader is not None:
            yield self.app, loader
        for blueprint in self.app.iter_blueprints():
            loader = blueprint.jinja_loader
            if loader is not None:
                yield blueprint, loader

    def list_templates(self) -> list[str]:
        """The names of all templates the application and blueprints have."""
        names: set[str] = set()
        for _owner, loader in self._iter_loaders():
            names.update(loader.list_templates())
        return sorted(names)


def _render(app: Demijohn, template: Template, context: dict[str, t.Any]) -> str:
    app.update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    rendered = template.render(context)
    if template_rendered.receivers:
        template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    return rendered


def _stream(
    app: Demijohn, template: Template, context: dict[str, t.Any]
) -> t.Iterator[str]:
    app.update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )

    def generate() -> t.Iterator[str]:
        yield from template.generate(context)
        if template_rendered.receivers:
            template_rendered.send(
                app, _async_wrapper=app.ensure_sync, template=template, context=context
            )

    stream = generate()
    if _cv_request.get(None) is not None:
        return stream_with_context(stream)
    return stream


def _current_app() -> Demijohn:
    return current_app._get_current_object()  # type: ignore[attr-defined, no-any-return]


def render_template(
    template_name_or_list: str | Template | list[str | Template],
    **context: t.Any,
) -> str:
    """Render the named template with ``context`` and return the text.

    Given a list of names, the first that exists is rendered. The context
    also holds ``config``, ``request``, ``session``, ``g``, ``url_for`` and
    ``get_flashed_messages``, plus what context processors add. Sends
    :data:`~demijohn.signals.before_render_template` and
    :data:`~demijohn.signals.template_rendered`.

    :raises jinja2.TemplateNotFound: naming the template when no loader has
        it; set :data:`EXPLAIN_TEMPLATE_LOADING` to log where it looked.
    """
    app = _current_app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: t.Any) -> str:
    """Render a template given as source text; see :func:`render_template`."""
    app = _current_app()
    return _render(app, app.jinja_env.from_string(source), context)


def stream_template(
    template_name_or_list: str | Template | list[str | Template],
    **context: t.Any,
) -> t.Iterator[str]:
    """Render the named template piece by piece, as an iterator a view can
    return to stream the response.

    Inside a request, the request context stays available while the
    template renders (see :func:`~demijohn.stream_with_context`).
    """
    app = _current_app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: t.Any) -> t.Iterator[str]:
    """Stream a template given as source text; see :func:`stream_template`."""
    app = _current_app()
    return _stream(app, app.jinja_env.from_string(source), context)
