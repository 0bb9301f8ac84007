import sys

from sparkeks.cli import main

sys.exit(main(prog="python -m sparkeks"))
