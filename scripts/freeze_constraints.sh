#!/usr/bin/env bash
# Writes constraints.txt: the exact versions in .venv, which the suite passed with. Run after `make test`
# is green on a changed requirements file; `make` installs with these pins.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# The exact versions the test suite passed with (scripts/freeze_constraints.sh writes this from .venv)."
  echo "# make installs with them; the requirements files keep the ranges a pip install of the project accepts."
  .venv/bin/python -m pip list --format=freeze --exclude-editable 2>/dev/null \
    | grep -v -i -E '^(alphaction-demo|pip|setuptools|wheel|pyflakes)=='
} > constraints.txt
