"""`python -m reviewer` runs the command line, same as `notifier-review`."""

from reviewer.cli.main import main

raise SystemExit(main())
