"""`python3 -m mailflow` is the `mailflow` command (handy before the script is on PATH)."""

import sys

from mailflow.cli.parser import main

if __name__ == "__main__":  # not when a worker process imports the main module
    sys.exit(main())
