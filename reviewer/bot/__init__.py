"""The review bot: follows patch traffic, reviews each series once, replies on its thread.

Flow position: a driver around the whole flow.  sources.py reads Maildirs, mboxes and public-inbox
archives; message.py classifies each mail; assembly.py groups patches into series and links
versions; review.py runs the engine; compose.py writes the replies (with the email voice);
policy.py decides whether to send them; delivery.py sends them (outbox Maildir or SMTP); state.py
remembers all of it in SQLite; runner.py runs the polls.  `notifier-review bot`
(reviewer/cli/cmd_bot.py) starts it.
"""
