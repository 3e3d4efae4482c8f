"""`-j N`: the engine's work spread over N processes, results identical and in the same order.

Flow position: judgement.  `review.py` hands its per-patch and per-file work here.  With one job
(or one item) everything runs in this process.  With more, a `ProcessPoolExecutor` with the
*fork* start method runs the items: the workers inherit the series, the images and the options
as they are at fork time, so nothing heavy is pickled on the way in, and only results (findings,
function lists) come back.  Items are handed out in contiguous chunks so that a worker reviewing
patches N and N+1 still parses the blob they share once.  Images are read in this process
before the pool starts (`preload`): git objects and open repository handles are never used from
two processes at once.  An `InputError` raised in a worker is carried back and raised here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from reviewer.errors import ReviewError
from reviewer.images.base import FileImages
from reviewer.model import FileChange, Patch

_TASK: Callable[[Any], Any] | None = None  # what the forked workers run


class _Failed:
    """A ReviewError raised by a worker, carried back as a value (exceptions with custom
    constructors do not always survive pickling)."""

    def __init__(self, exc: ReviewError) -> None:
        self.cls = type(exc)
        self.subject = exc.subject
        self.message = exc.message

    def raise_it(self) -> None:
        raise self.cls(self.subject, self.message)


def _call(item: Any) -> Any:
    assert _TASK is not None
    try:
        return _TASK(item)
    except ReviewError as exc:
        return _Failed(exc)


def jobs_wanted(jobs: int | None) -> int:
    """`-j 0` means one job per CPU."""
    if jobs is None or jobs == 1:
        return 1
    if jobs <= 0:
        return max(1, os.cpu_count() or 1)
    return jobs


def map_ordered(
    task: Callable[[Any], Any],
    items: Sequence[Any],
    jobs: int,
    weights: Sequence[float] | None = None,
) -> Iterator[Any]:
    """task(item) for every item, in order; in `jobs` forked processes when jobs > 1.

    With `weights` (e.g. file sizes) the items are handed out one at a time, heaviest first, so
    that one large file at the end of a chunk does not leave the other worker idle; results
    still come back in the items' order."""
    global _TASK
    jobs = min(jobs_wanted(jobs), len(items))
    if jobs <= 1:
        yield from (task(i) for i in items)
        return
    import multiprocessing  # only here: importing them costs a per-patch process ~15 ms
    from concurrent.futures import ProcessPoolExecutor

    _TASK = task
    chunk = max(1, -(-len(items) // (jobs * 4)))
    ctx = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            if weights is not None:
                order = sorted(range(len(items)), key=lambda i: -weights[i])
                futures = {i: pool.submit(_call, items[i]) for i in order}
                outs: Iterator[Any] = (futures[i].result() for i in range(len(items)))
            else:
                outs = pool.map(_call, items, chunksize=chunk)
            for out in outs:
                if isinstance(out, _Failed):
                    out.raise_it()
                yield out
    finally:
        _TASK = None


class Preloaded:
    """An image provider answering from images read beforehand, in this process."""

    def __init__(self, provider: Any, images: dict[tuple[int, int], FileImages]) -> None:
        self.mode = provider.mode
        self.notes = getattr(provider, "notes", [])
        self._provider = provider
        self._images = images

    def images(self, patch: Patch, change: FileChange) -> FileImages:
        found = self._images.get((id(patch), id(change)))
        return found if found is not None else self._provider.images(patch, change)


def preload(patches: Sequence[Patch], provider: Any,
            wanted: Callable[[FileChange], bool]) -> Preloaded:
    images: dict[tuple[int, int], FileImages] = {}
    for patch in patches:
        for change in patch.files:
            if wanted(change):
                images[(id(patch), id(change))] = provider.images(patch, change)
    return Preloaded(provider, images)
