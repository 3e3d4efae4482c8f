"""Images: the text of each touched file before and after a patch.

Flow position: model -> **images** -> C understanding.  A provider answers, for one patch and one
of its FileChanges, with the pre and post image.  With a git tree the images are real blobs
(`tree` mode); without one they are rebuilt from the hunks (`fragment` mode), one piece per hunk.
"""
