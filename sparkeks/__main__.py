from sparkeks.cli import main
from sparkeks.process_exit import exit_now

exit_now(main(prog="python -m sparkeks"))
