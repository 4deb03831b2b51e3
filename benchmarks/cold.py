"""In-process benchmark with cold CPU caches: ``benchmarks.inprocess`` with
``--cold``, as a part of its own for ``benchmarks/run --only cold``.

Run from the repository root: ``python -m benchmarks.cold [--quick]``.
"""

from __future__ import annotations

import sys

from benchmarks.inprocess import main

if __name__ == "__main__":
    sys.exit(main(["--cold", *sys.argv[1:]]))
