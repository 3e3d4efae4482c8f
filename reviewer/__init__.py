"""notifier-review: reviews Linux kernel patch series for mmu_notifier / HMM mistakes.

The package is laid out by the stage of the flow it serves (see ARCHITECTURE in the design notes):
`sources` and `model` (what the user has, as a Series of Patches), `images` (the files before and
after each patch), `c` (kernel C parsed with tree-sitter, functions, control-flow graphs, file
facts), `analysis` (the path walker and its abstract state), `engine` (running rules and keeping
what a patch introduces), `voices` (text, JSON, SARIF, b4, mailing-list replies) and `cli`.
The rule families live in `reviewer.rules` (top-level `rules/` in a source checkout).
"""

from __future__ import annotations

from reviewer import _layout

__version__ = "0.1.0"

_layout.alias_source_checkout()
