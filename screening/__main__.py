"""`python -m screening` runs the command line."""

from screening.cli import main

raise SystemExit(main())
