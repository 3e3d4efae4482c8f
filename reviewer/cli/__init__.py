"""Command line: one module per subcommand, `main` wires them into argparse.

Flow position: the user's entry to every stage.  Subcommand modules import the heavy stages only
inside `run`, so that `notifier-review --help` and per-patch b4 calls start fast.
"""
