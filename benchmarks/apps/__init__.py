"""The benchmark app, once per framework.

Each module builds the routes of :mod:`benchmarks.scenarios` at import and
exposes them as ``app`` (so servers can load ``benchmarks.apps.<name>:app``),
plus ``UNSUPPORTED``: scenario key -> why that framework has no entry there.
"""
