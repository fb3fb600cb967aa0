"""`python3 -m mailflow` is the `mailflow` command (handy before the script is on PATH)."""

import sys

from mailflow.cli.parser import main

sys.exit(main())
