"""The signals demijohn sends, on a blinker :class:`~blinker.Namespace`.

They are sent at the same points and with the same arguments as Flask's, so
code that subscribes to ``flask.signals`` works here. The sender is always
the application. demijohn checks for receivers before sending, so an
unsubscribed signal costs no more than an attribute look-up per request.

Subscribe with ``signal.connect(receiver, app)`` or ``signal.connected_to``.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent after a template rendered, with ``template`` and ``context``.
template_rendered = _signals.signal("template-rendered")
#: Sent before a template renders, with ``template`` and ``context``.
before_render_template = _signals.signal("before-render-template")
#: Sent when the request context is set up, before any ``before_request``
#: hook runs. No extra arguments.
request_started = _signals.signal("request-started")
#: Sent after the response was built and ``after_request`` hooks ran, with
#: ``response``.
request_finished = _signals.signal("request-finished")
#: Sent when the request context tears down, even after an error, with
#: ``exc`` (the unhandled exception or ``None``).
request_tearing_down = _signals.signal("request-tearing-down")
#: Sent when an exception reaches :meth:`~demijohn.Demijohn.handle_exception`,
#: before it is logged or handled, with ``exception``.
got_request_exception = _signals.signal("got-request-exception")
#: Sent when the application context tears down, with ``exc``.
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
#: Sent when an application context is pushed. No extra arguments.
appcontext_pushed = _signals.signal("appcontext-pushed")
#: Sent when an application context is popped. No extra arguments.
appcontext_popped = _signals.signal("appcontext-popped")
#: Sent when :func:`~demijohn.flash` stores a message, with ``message`` and
#: ``category``.
message_flashed = _signals.signal("message-flashed")
