"""demijohn's benchmark harness against its peers; see benchmarks/README.md.

A package so that its modules run as ``python -m benchmarks.<name>`` from
the repository root: ``benchmarks/http.py`` would shadow the standard
library's :mod:`http` if this folder were put on ``sys.path``.
"""
