#!/usr/bin/env python3
"""Entry point kept for users of the official AlphAction demo: `python demo.py --video-path in.mp4`."""

import sys

from alphaction_demo.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
