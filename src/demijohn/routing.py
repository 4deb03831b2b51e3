r"""A fast URL matcher that gives Werkzeug's answer or no answer.

:class:`FastRouter` answers the common requests (an exact static path, or a
path under a first segment that belongs to a single dynamic rule) with a
dictionary lookup and a few string checks, and returns ``None`` for
everything else; the caller then asks Werkzeug's
:meth:`~werkzeug.routing.MapAdapter.match`, which produces the redirects,
404s and 405s.

**Why a hit is Werkzeug's answer.** The tables are not built from the rule
strings but read off Werkzeug's own state machine (``url_map._matcher``),
after :meth:`~werkzeug.routing.Map.update`.
Werkzeug 3.1 matches ``[subdomain, *path.split("/")]`` depth first: at every
state it follows the static transition for the next part first, then the
dynamic ones; when no part is left it returns the first rule of that state
whose methods accept the request and that is not a websocket rule. A path
always starts with ``/``, so matching goes through
``root.static[subdomain].static[""]`` (the *path root*) first.

*Static table.* For every state reached from the path root by static
transitions only, the key is its path and the value the first qualifying rule
for each method (computed from ``State.rules`` in Werkzeug's order). Werkzeug,
given that exact path, descends through those same static transitions
(static is tried before dynamic, and no part runs out before the last, so no
trailing-slash check runs) and returns the same first qualifying rule. When
no rule qualifies we do not answer: Werkzeug may then redirect to add a slash,
try dynamic siblings, or answer 405.

*Dynamic table.* When the subtree under a first segment (``route51`` in
``/route51/<int:item_id>/<name>``) holds exactly one rule, any method, any
protocol, that subtree is a chain of states with one transition each.
Werkzeug enters it first (static before dynamic), and succeeds in it exactly
when the path has as many parts as the chain, the static parts are equal and
each dynamic part's regular expression (the very ``RulePart.content``
Werkzeug compiles) matches its part. Parts ending a chain early, trailing
slashes and backtracking therefore cannot differ. Rules with a converter that
is not ``part_isolating`` (its part consumes the rest of the path) are left
out. Values are converted afterwards in ``rule._converters`` order as
Werkzeug does; a failing conversion means no answer (Werkzeug raises
``NotFound`` or ``MethodNotAllowed``).

*After the state machine.* Werkzeug then redirects for aliases, for
``redirect_to`` and for an endpoint whose other rule
:meth:`~werkzeug.routing.Rule.provides_defaults_for` the matched one when
``Map.redirect_defaults`` is on. Such rules are kept in the tables (they still
win their paths) but answer ``None``. Rules whose text contains ``//`` answer
``None`` too, and so does a dynamic lookup of any path containing ``//``:
slash merging is left to Werkzeug.

Each dynamic route is compiled into a small function of straight-line checks
(see ``_RouteSource``). Two shortcuts replace a regular expression by a
string check when the part's pattern is exactly what Werkzeug's ``string``
converter (``[^/]{min,max}``: a length check, since a part never contains
``/``) or ``int`` converter (``\d+``: :meth:`str.isdecimal`, both meaning
Unicode category Nd) produce; ``int``'s ``to_python`` without
``fixed_digits``, ``min`` or ``max`` is :class:`int` itself.

The router reflects the map when it was built: build a new one after adding
rules or changing the map's settings or a rule's attributes.

.. versionadded:: 0.1
"""

from __future__ import annotations

import re
import typing as t

from werkzeug.routing import Map, Rule
from werkzeug.routing.converters import BaseConverter, NumberConverter
from werkzeug.routing.matcher import State, StateMachineMatcher
from werkzeug.routing.rules import RulePart

__all__ = ["FastRouter", "build_router", "host_binds"]

_Match = tuple[Rule, dict[str, t.Any]]
#: What a hit holds before it is copied for the caller: the rule and its
#: ``defaults`` (kept by reference, as Werkzeug reads them at match time).
_Hit = tuple[Rule, "t.Mapping[str, t.Any] | None"]
#: Per static path: the hit for each method some rule there names, and the
#: hit for any other method.
_StaticEntry = tuple[dict[str, "_Hit | None"], "_Hit | None"]
#: The generated matcher of one dynamic route: ``(path.split("/"), method)``.
_RouteFunction = t.Callable[[list[str], str], "_Match | None"]

_LENGTH_PART = re.compile(r"\(\?P<__werkzeug_0>\[\^/\]\{(\d+)(,(\d*))?\}\)\\Z")
_DECIMAL_PART = r"(?P<__werkzeug_0>\d+)\Z"
_GROUP_PREFIX = "__werkzeug_"
_MAP_METHODS = ("bind", "bind_to_environ", "update")
_NO_ENTRY: t.Any = object()


class FastRouter:
    """Matches the common request paths of one map and subdomain quickly.

    Build it with :func:`build_router`, which returns ``None`` for maps this
    class cannot serve. The tables are computed once here; build a new router
    after the map changes.

    :param url_map: the application's URL map. Its :meth:`~Map.update` is
        called first.
    :param subdomain: the subdomain the map is bound with for matching; rules
        of other subdomains are never answered.
    :raises ValueError: when the map cannot be routed fast (see
        :func:`build_router`).
    """

    __slots__ = ("_dynamic", "_first_segments", "_static")

    def __init__(self, url_map: Map, subdomain: str) -> None:
        reason = _unsupported_reason(url_map)
        if reason is not None:
            raise ValueError(f"{reason}; use build_router(), which returns None.")
        url_map.update()
        answerable = _answerable_rules(url_map)
        # PRIVATE: Werkzeug's state machine is read so the tables are a
        # projection of the structure Werkzeug itself matches against.
        matcher: StateMachineMatcher = url_map._matcher
        path_root = _path_root(matcher._root, subdomain)
        self._static: dict[str, _StaticEntry] = {}
        self._dynamic: dict[str, _RouteFunction] = {}
        if path_root is not None:
            self._static = _static_table(path_root, answerable)
            self._dynamic = _dynamic_table(path_root, answerable)
        self._first_segments = _first_segments(matcher._root, subdomain)

    def match(self, path_info: str, method: str) -> _Match | None:
        """Return the rule and view arguments Werkzeug would, or ``None``.

        Called once per request, before Werkzeug's matcher.

        :param path_info: the decoded path info, as given to
            :meth:`~werkzeug.routing.MapAdapter.match`.
        :param method: the upper-case HTTP method.
        :return: the matched :class:`~werkzeug.routing.Rule` and a new dict of
            converted values (the caller may change it), or ``None`` when the
            answer is not certain; :meth:`~werkzeug.routing.MapAdapter.match`
            gives the answer then, including any redirect or error.
        """
        # PERF: every key starts with one "/" and has no "//", so a path found
        # as it is needs no normalising.
        entry = self._static.get(path_info)
        if entry is not None:
            hit = entry[0].get(method, _NO_ENTRY)
            if hit is _NO_ENTRY:
                hit = _other_method_hit(entry, method)
            if hit is None:
                return None
            return hit[0], dict(hit[1]) if hit[1] else {}
        if path_info[:1] != "/" or "//" in path_info:
            return self._match_unusual(path_info, method)
        parts = path_info.split("/")
        route = self._dynamic.get(parts[1])
        if route is None:
            return None
        return route(parts, method)

    def misses(self, path_info: str) -> bool:
        """Whether Werkzeug certainly answers *path_info* with a plain
        :exc:`~werkzeug.exceptions.NotFound`, for any method.

        Called after :meth:`match` returned ``None``. True when no rule's
        path begins with the path's first segment and no rule has a dynamic
        part where that segment would be matched: Werkzeug's state machine
        then has no transition to try, no method to report (405) and no
        slash to add (redirect).
        """
        known = self._first_segments
        if known is None or path_info[:1] != "/" or "//" in path_info:
            return False
        first = path_info[1:].partition("/")[0]
        return bool(first) and first not in known

    def _match_unusual(self, path_info: str, method: str) -> _Match | None:
        """Normalise the path as Werkzeug does and match it again."""
        if not path_info:
            return None
        path = "/" + path_info.lstrip("/")
        if path == path_info:
            return None  # "//" inside the path: slash merging, Werkzeug's job
        return self.match(path, method)


def build_router(url_map: Map, subdomain: str) -> FastRouter | None:
    """Build a :class:`FastRouter` for *url_map* bound to *subdomain*.

    Call it once per map and subdomain, after the rules are added, and cache
    the result.

    :param url_map: the application's URL map.
    :param subdomain: the subdomain the map is bound with for matching
        (``url_map.default_subdomain or ""`` without subdomain matching).
    :return: the router, or ``None`` when this map cannot be routed fast at
        all: host matching is on, the map's class replaces ``bind``,
        ``bind_to_environ`` or ``update``, its matcher is not Werkzeug's state
        machine, or this Werkzeug lacks the internals the router reads.
    """
    if _unsupported_reason(url_map) is not None:
        return None
    try:
        return FastRouter(url_map, subdomain)
    except (AttributeError, TypeError, ValueError, KeyError):
        # A Werkzeug whose internals differ from 3.1's: leave it all to it.
        return None


def _other_method_hit(entry: _StaticEntry, method: str) -> _Hit | None:
    """Return the hit of a static path for a method no rule there names."""
    # Werkzeug upper-cases the method and reads "" as GET; the table holds
    # upper-case names only, so those would wrongly miss it.
    if not method or method.upper() != method:
        return None
    return entry[1]


def _unsupported_reason(url_map: Map) -> str | None:
    """Say why *url_map* cannot be routed fast, or return ``None``."""
    if url_map.host_matching:
        return "host matching is enabled"
    for name in _MAP_METHODS:
        if getattr(type(url_map), name, None) is not getattr(Map, name):
            return f"the map class overrides Map.{name}"
        if name in vars(url_map):
            return f"the map instance overrides Map.{name}"
    # PRIVATE: the tables mirror StateMachineMatcher's structure exactly.
    matcher = getattr(url_map, "_matcher", None)
    if type(matcher) is not StateMachineMatcher or "match" in vars(matcher):
        return "the map does not use Werkzeug's StateMachineMatcher"
    return None


def _answerable_rules(url_map: Map) -> t.Callable[[Rule], bool]:
    """Return a test for rules whose match Werkzeug returns unchanged.

    Werkzeug redirects instead of returning aliases, ``redirect_to`` rules
    and, with ``redirect_defaults``, rules another rule of their endpoint
    provides defaults for; rules containing ``//`` are left to its slash
    merging.
    """
    shadowed: set[int] = set()
    if url_map.redirect_defaults:
        by_endpoint: dict[t.Any, list[Rule]] = {}
        for rule in url_map.iter_rules():
            by_endpoint.setdefault(rule.endpoint, []).append(rule)
        for rules in by_endpoint.values():
            for rule in rules:
                if any(other.provides_defaults_for(rule) for other in rules):
                    shadowed.add(id(rule))

    def answerable(rule: Rule) -> bool:
        return (
            rule.redirect_to is None
            and not rule.alias
            and not rule.build_only
            and "//" not in rule.rule
            and id(rule) not in shadowed
        )

    return answerable


def _first_segments(root: State, subdomain: str) -> frozenset[str] | None:
    """Return the first path segments any rule of *subdomain* begins with,
    or ``None`` when some rule could match any first segment (a dynamic
    part there, or a dynamic subdomain)."""
    domain = root.static.get(subdomain)
    path_root = None if domain is None else domain.static.get("")
    if (
        root.dynamic
        or (domain is not None and domain.dynamic)
        or (path_root is not None and path_root.dynamic)
    ):
        return None
    return frozenset(() if path_root is None else path_root.static)


def _path_root(root: State, subdomain: str) -> State | None:
    """Return the state Werkzeug reaches for *subdomain* and the leading ``/``."""
    domain = root.static.get(subdomain)
    if domain is None:
        return None
    return domain.static.get("")


def _is_http_rule(rule: Rule) -> bool:
    """Tell whether Werkzeug can return *rule* for an HTTP request."""
    # Werkzeug skips a rule when ``rule.websocket != websocket``; compare the
    # same way rather than by truth so odd values are judged alike.
    return rule.websocket == False  # noqa: E712


def _first_hit(
    rules: list[Rule], method: str | None, answerable: t.Callable[[Rule], bool]
) -> _Hit | None:
    """Return the hit for the rule Werkzeug returns, if it is answerable.

    :param method: ``None`` stands for any method no rule here names.
    """
    for rule in rules:
        if rule.methods is not None and (method is None or method not in rule.methods):
            continue
        if _is_http_rule(rule):
            return (rule, rule.defaults) if answerable(rule) else None
    return None


def _static_table(
    path_root: State, answerable: t.Callable[[Rule], bool]
) -> dict[str, _StaticEntry]:
    """Index the states reachable from *path_root* by static parts only."""
    table: dict[str, _StaticEntry] = {}
    stack: list[tuple[str, State]] = [("", path_root)]
    while stack:
        prefix, state = stack.pop()
        for key, child in state.static.items():
            if "/" in key:
                continue  # cannot come from path.split("/"); unreachable
            path = f"{prefix}/{key}"
            stack.append((path, child))
            if child.rules and "//" not in path:
                named = {m for rule in child.rules for m in rule.methods or ()}
                by_method = {m: _first_hit(child.rules, m, answerable) for m in named}
                table[path] = (by_method, _first_hit(child.rules, None, answerable))
    return table


def _dynamic_table(
    path_root: State, answerable: t.Callable[[Rule], bool]
) -> dict[str, _RouteFunction]:
    """Index the first segments that lead to exactly one dynamic rule."""
    table: dict[str, _RouteFunction] = {}
    for segment, child in path_root.static.items():
        rules = _rules_below(child)
        if len(rules) != 1 or not answerable(rules[0]) or not _is_http_rule(rules[0]):
            continue
        chain = _chain(child, rules[0])
        if chain is None or all(isinstance(step, str) for step in chain):
            continue  # static rules are in the static table
        try:
            route = _compile_route(rules[0], chain)
        except (re.error, ValueError, TypeError, IndexError):
            route = None  # Werkzeug would fail too; let it say how
        if route is not None:
            table[segment] = route
    return table


def _rules_below(state: State) -> list[Rule]:
    """Return every rule in the subtree of *state*."""
    found: list[Rule] = []
    stack = [state]
    while stack:
        current = stack.pop()
        found.extend(current.rules)
        stack.extend(current.static.values())
        stack.extend(new_state for _, new_state in current.dynamic)
    return found


def _chain(state: State, rule: Rule) -> list[str | RulePart] | None:
    """Return the transitions from *state* down to *rule*, one per part.

    ``None`` when the subtree is not a single chain ending at *rule*.
    """
    steps: list[str | RulePart] = []
    while not state.rules:
        if len(state.static) + len(state.dynamic) != 1:
            return None
        if state.static:
            key, state = next(iter(state.static.items()))
            steps.append(key)
        else:
            part, state = state.dynamic[0]
            steps.append(part)
    if state.rules != [rule] or state.static or state.dynamic:
        return None
    return steps


class _RouteSource:
    """The source of one generated route function and the objects it names.

    PERF: a dynamic route is compiled to straight-line code because a loop
    over per-part check tuples costs about twice as much per request. The
    source holds only integer literals and names made up here; every value
    from the map (texts, patterns, converters, the rule) is passed in the
    namespace, so nothing from a rule can change the code.
    """

    def __init__(self, rule: Rule) -> None:
        self.namespace: dict[str, t.Any] = {"rule": rule}
        self.checks: list[str] = []
        self.raw_values: list[str] = []

    def bind(self, prefix: str, value: t.Any) -> str:
        """Give *value* a fresh name in the function's namespace."""
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def add_part(self, index: int, content: str) -> None:
        """Check path part *index* against a dynamic part's *content*."""
        pattern = re.compile(content)  # what Werkzeug compiles; raises if it would
        segment = f"parts[{index}]"
        length = _LENGTH_PART.fullmatch(content)
        if content == _DECIMAL_PART:
            self.checks.append(f"not {segment}.isdecimal()")
            self.raw_values.append(segment)
        elif length is not None:
            self.checks.append(_length_check(segment, length))
            self.raw_values.append(segment)
        else:
            found = f"m{index}"
            match = self.bind("match", pattern.match)
            self.checks.append(f"({found} := {match}({segment})) is None")
            names = sorted(
                (name for name in pattern.groupindex if name.startswith(_GROUP_PREFIX)),
                key=lambda name: int(name[len(_GROUP_PREFIX) :]),
            )
            for name in names:
                self.raw_values.append(f"{found}.group({self.bind('group', name)})")

    def function(
        self, length: int, converters: dict[str, BaseConverter]
    ) -> _RouteFunction:
        """Compile the checks and conversions into the route function."""
        rule: Rule = self.namespace["rule"]
        checks = [f"len(parts) != {length:d}"]
        if rule.methods is not None:
            checks.append(f"method not in {self.bind('methods', rule.methods)}")
        items = []
        for (name, converter), raw in zip(
            converters.items(), self.raw_values, strict=True
        ):
            convert = _convert_function(converter)
            value = (
                raw if convert is None else f"{self.bind('convert', convert)}({raw})"
            )
            items.append(f"{self.bind('name', name)}: {value}")
        lines = ["def route(parts, method):"]
        # Werkzeug matches every part before it converts any value.
        for check in checks + self.checks:
            lines += [f"    if {check}:", "        return None"]
        lines += ["    try:", f"        values = {{{', '.join(items)}}}"]
        lines += ["    except Exception:", "        return None"]
        if rule.defaults is not None:
            defaults = self.bind("defaults", rule.defaults)
            lines += [f"    if {defaults}:", f"        values.update({defaults})"]
        lines.append("    return rule, values")
        exec(compile("\n".join(lines), "<demijohn.routing>", "exec"), self.namespace)
        return t.cast(_RouteFunction, self.namespace["route"])


def _length_check(segment: str, length: re.Match[str]) -> str:
    r"""Return the test failing where ``[^/]{min,max}\Z`` fails on a part."""
    low = int(length.group(1))
    if length.group(2) is None:
        return f"len({segment}) != {low:d}"
    if not length.group(3):
        return f"not {segment}" if low == 1 else f"len({segment}) < {low:d}"
    return f"not {low:d} <= len({segment}) <= {int(length.group(3)):d}"


def _compile_route(rule: Rule, chain: list[str | RulePart]) -> _RouteFunction | None:
    """Turn *rule*'s chain into a route function; ``None`` if not per-part.

    Path parts 0 and 1 are ``""`` and the first segment, found by lookup.
    """
    source = _RouteSource(rule)
    for index, step in enumerate(chain, start=2):
        if isinstance(step, str):
            source.checks.append(f"parts[{index:d}] != {source.bind('text', step)}")
        elif step.final or step.suffixed or step.static:
            return None  # the part spans several path segments
        else:
            source.add_part(index, step.content)
    # PRIVATE: Werkzeug converts with rule._converters, in insertion order,
    # pairing them with the groups it found.
    converters = rule._converters
    if len(source.raw_values) != len(converters):
        return None
    return source.function(len(chain) + 2, converters)


def _convert_function(converter: BaseConverter) -> t.Callable[[str], t.Any] | None:
    """Return the cheapest function equal to ``converter.to_python``.

    ``None`` means the value is returned unchanged.
    """
    own = getattr(converter, "__dict__", {})
    if "to_python" in own:
        return converter.to_python
    to_python = type(converter).to_python
    if to_python is BaseConverter.to_python:
        return None
    if (
        to_python is NumberConverter.to_python
        and "num_convert" not in own
        and getattr(type(converter), "num_convert", None) is int
        and not getattr(converter, "fixed_digits", True)
        and getattr(converter, "min", 0) is None
        and getattr(converter, "max", 0) is None
    ):
        return int
    return converter.to_python


def host_binds(host: str | None) -> bool:
    """Whether Werkzeug binds a URL adapter for a request whose ``Host``
    header (the environ's ``HTTP_HOST``) is ``host``: ``Map.bind`` refuses
    a host name that IDNA cannot encode (an empty or overlong label, a
    control character) with :exc:`~werkzeug.routing.exceptions.BadHost`, a
    400. The router may answer only for a host the adapter would take;
    without a ``Host`` header (``None``) the adapter decides.

    PERF: the hosts a server sees are few; each one found to bind is
    remembered (up to 256, as clients choose them), so the common request
    costs one set lookup.
    """
    if host in _BINDING_HOSTS:
        return True
    if host is None:
        return False
    # What Map.bind encodes: the lower-cased name without its port.
    name = host.lower().partition(":")[0]
    try:
        name.encode("idna")
    except UnicodeError:
        return False
    if len(_BINDING_HOSTS) < 256:
        _BINDING_HOSTS.add(host)
    return True


#: ``Host`` header values Werkzeug binds a URL adapter for (see
#: :func:`host_binds`).
_BINDING_HOSTS: set[str | None] = set()
