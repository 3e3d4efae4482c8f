"""The bot's review of one assembled series: the engine, with a tree when one is given.

Flow position: bot assembly -> **review** -> compose.  With `--tree DIR` the series is applied in
memory to the checkout (`TreeApplyProvider`: at its `base-commit:` when the tree has it, else at
HEAD, falling back to fragment images per file when a hunk does not apply); the checkout is only
read.  Without a tree the images are rebuilt from the hunks (fragment mode).
"""

from __future__ import annotations

from reviewer.engine.review import Report, review_series
from reviewer.engine.rule import RunOptions
from reviewer.errors import ReviewError
from reviewer.images.base import ImageProvider
from reviewer.images.fragment import FragmentProvider
from reviewer.images.treeapply import TreeApplyProvider
from reviewer.model import Series


def review(series: Series, tree: str | None, options: RunOptions) -> Report:
    notes: list[str] = []
    provider: ImageProvider = FragmentProvider()
    if tree:
        try:
            provider = TreeApplyProvider(series, tree)
        except (ReviewError, OSError, ValueError) as exc:
            notes.append(f"--tree {tree} could not be used ({exc}); fragment mode")
    report = review_series(series, provider, options)
    report.notes += notes
    return report
