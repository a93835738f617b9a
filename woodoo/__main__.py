"""`python -m woodoo` runs the command line."""

from woodoo.cli import main

main()
