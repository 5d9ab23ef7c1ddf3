"""`python -m screening` runs the command line."""

from screening.launch import main

if __name__ == "__main__":
    raise SystemExit(main())
