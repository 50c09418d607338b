"""Run every benchmark module in this folder (or those named: `python -m bench platform bus`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    wanted = sys.argv[1:]
    # The names chosen here are not the modules' own options: each runs with its defaults.
    sys.argv = sys.argv[:1]
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))
    for name in names:
        if wanted and name not in wanted:
            continue
        module = importlib.import_module(f"bench.{name}")
        if hasattr(module, "main"):
            print(f"\n=== bench.{name} ===", flush=True)
            module.main()


if __name__ == "__main__":
    main()
