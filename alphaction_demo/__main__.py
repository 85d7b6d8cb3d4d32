"""`python -m alphaction_demo` is the same command line as `demo.py` and `alphaction-demo`."""

import sys

from alphaction_demo.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
