"""Sources: whatever the user has (patch files, mbox, a git range, the staged index) as a Series.

Flow position: **sources** -> model -> images.  `series_from_files` reads patch files and mail;
`series_from_range` and `series_from_staged` read git and return their image provider with the
series.
"""

from __future__ import annotations

from reviewer.sources.gitrange import series_from_range, series_from_staged
from reviewer.sources.patchfile import series_from_files

__all__ = ["series_from_files", "series_from_range", "series_from_staged"]
