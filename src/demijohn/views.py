"""Class-based views: :class:`View`, turned into a view function by
:meth:`View.as_view`, and :class:`MethodView`, which dispatches each HTTP
method to the instance method of the same name.

Nothing here is special to the application: ``as_view`` returns a plain
function with ``methods`` and ``provide_automatic_options`` attributes,
which :meth:`~demijohn.Demijohn.add_url_rule` reads like those of any view.
"""

from __future__ import annotations

import typing as t

from . import typing as ft
from .globals import current_app, request

#: A type variable for decorators of view functions.
F = t.TypeVar("F", bound=t.Callable[..., t.Any])

#: The lower-case HTTP method names :class:`MethodView` looks for as
#: instance methods.
http_method_funcs = frozenset(
    ["get", "post", "head", "options", "delete", "put", "trace", "patch"]
)


class View:
    """A view written as a class.

    Subclass it, implement :meth:`dispatch_request`, and register the
    function ``as_view(name)`` returns::

        class Greeting(View):
            def __init__(self, greeting):
                self.greeting = greeting

            def dispatch_request(self, name):
                return f"{self.greeting}, {name}!"

        app.add_url_rule(
            "/hello/<name>", view_func=Greeting.as_view("hello", "Hello")
        )

    Decorators applied to the class itself do not reach the view function;
    list them in :attr:`decorators` instead.
    """

    #: The methods the view is registered for; ``None`` uses the default
    #: of :meth:`~demijohn.Demijohn.add_url_rule` (``GET``, plus ``HEAD``
    #: and ``OPTIONS``).
    methods: t.ClassVar[t.Collection[str] | None] = None

    #: Whether ``OPTIONS`` is answered automatically; ``None`` uses the
    #: default of :meth:`~demijohn.Demijohn.add_url_rule`.
    provide_automatic_options: t.ClassVar[bool | None] = None

    #: Decorators applied, in order, to the function :meth:`as_view`
    #: returns: the first in the list is the innermost, as if it were the
    #: ``@decorator`` line nearest the function.
    decorators: t.ClassVar[list[t.Callable[..., t.Any]]] = []

    #: Create an instance for every request (the default). Set it to
    #: ``False`` to create one instance in :meth:`as_view` and reuse it,
    #: which saves set-up work but makes ``self`` shared between requests:
    #: keep per-request data on :data:`~demijohn.g` then.
    init_every_request: t.ClassVar[bool] = True

    def dispatch_request(self) -> ft.ResponseReturnValue:
        """Handle a request and return a response value.

        Called by the view function with the URL's view arguments as
        keyword arguments. Subclasses must override it; it may be an
        ``async def``, which is run through
        :meth:`~demijohn.Demijohn.ensure_sync`.

        :raises NotImplementedError: if not overridden.
        """
        raise NotImplementedError()

    @classmethod
    def as_view(
        cls, name: str, *class_args: t.Any, **class_kwargs: t.Any
    ) -> ft.RouteCallable:
        """Return a view function for this class, to register on a route.

        The function creates the view instance with ``class_args`` and
        ``class_kwargs`` (once per request, or once here if
        :attr:`init_every_request` is false) and returns what its
        :meth:`dispatch_request` returns. It is wrapped by
        :attr:`decorators` and carries ``view_class``, ``__name__`` (set to
        ``name``, the default endpoint), ``__doc__``, ``__module__``,
        ``methods`` and ``provide_automatic_options``.
        """
        view: t.Callable[..., ft.ResponseReturnValue]
        if cls.init_every_request:

            def view(**kwargs: t.Any) -> ft.ResponseReturnValue:
                # Read ``view_class`` at call time so a test can swap it.
                view_class = t.cast(t.Any, view).view_class
                instance = view_class(*class_args, **class_kwargs)
                return _dispatch(instance, kwargs)

        else:
            shared = cls(*class_args, **class_kwargs)

            def view(**kwargs: t.Any) -> ft.ResponseReturnValue:
                return _dispatch(shared, kwargs)

        if cls.decorators:
            # Decorators that use functools.wraps copy these onto the
            # wrapper, so set them before wrapping.
            view.__name__ = name
            view.__module__ = cls.__module__
            for decorator in cls.decorators:
                view = decorator(view)

        attrs = t.cast(t.Any, view)
        attrs.view_class = cls
        attrs.__name__ = name
        attrs.__doc__ = cls.__doc__
        attrs.__module__ = cls.__module__
        attrs.methods = cls.methods
        attrs.provide_automatic_options = cls.provide_automatic_options
        return view


def _dispatch(instance: View, kwargs: dict[str, t.Any]) -> ft.ResponseReturnValue:
    """Call ``instance.dispatch_request``, async or not."""
    return current_app.ensure_sync(instance.dispatch_request)(**kwargs)  # type: ignore[no-any-return]


class MethodView(View):
    """A view that calls the instance method named after the request's
    HTTP method.

    ``get`` handles ``GET``, ``post`` handles ``POST``, and so on::

        class Counter(MethodView):
            def get(self):
                return str(session.get("count", 0))

            async def post(self):
                session["count"] = session.get("count", 0) + 1
                return redirect(url_for("counter"))

        app.add_url_rule("/counter", view_func=Counter.as_view("counter"))

    Unless a subclass sets :attr:`~View.methods` itself, it is filled in
    when the subclass is created, from the method functions the class
    defines or inherits, so other methods get a 405 from routing. ``HEAD``
    falls back to ``get``. Methods may be ``async def``.
    """

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        """Set :attr:`~View.methods` from the HTTP method functions of the
        new class and the ``methods`` of its bases, unless the class body
        sets it.
        """
        super().__init_subclass__(**kwargs)
        if "methods" in cls.__dict__:
            return
        methods: set[str] = set()
        for base in cls.__bases__:
            base_methods = getattr(base, "methods", None)
            if base_methods:
                methods.update(base_methods)
        methods.update(key.upper() for key in http_method_funcs if hasattr(cls, key))
        if methods:
            cls.methods = methods

    def dispatch_request(self, **kwargs: t.Any) -> ft.ResponseReturnValue:
        """Call the method named after ``request.method`` in lower case with
        the view arguments; a ``HEAD`` request without ``head`` uses ``get``.

        :raises AssertionError: if the class has no method for the request
            (routing normally answers 405 before that).
        """
        method = getattr(self, request.method.lower(), None)
        if method is None and request.method == "HEAD":
            method = getattr(self, "get", None)
        assert method is not None, f"Unimplemented method {request.method!r}"
        return current_app.ensure_sync(method)(**kwargs)  # type: ignore[no-any-return]
