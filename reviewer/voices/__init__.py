"""Voices: the same findings rendered for each audience.

Flow position: the last stage.  `text` (checkpatch-like lines), `json`, and, added by their own
modules, SARIF, b4's check protocols and mailing-list replies.  A voice sees findings and
patches, never ASTs or git.
"""
