"""``python -m minidl``: the same as the ``minidl`` command."""

from minidl.cli import main

raise SystemExit(main())
