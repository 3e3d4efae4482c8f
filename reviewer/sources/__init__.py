"""Sources: whatever the user has (patch files, mbox, a git range, the staged index) as a Series.

Flow position: **sources** -> model -> images.  `series_from_files` reads patch files and mail;
`series_from_range` and `series_from_staged` read git and return their image provider with the
series.  The names are imported on first use, so that reading patch files does not pay for
importing gitpython (a per-patch check is a new process every time).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["series_from_files", "series_from_range", "series_from_staged"]

_HOME = {
    "series_from_files": "reviewer.sources.patchfile",
    "series_from_range": "reviewer.sources.gitrange",
    "series_from_staged": "reviewer.sources.gitrange",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'reviewer.sources' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
