from sparkeks.cli import main
from sparkeks.process_exit import run_command

run_command(lambda: main(prog="python -m sparkeks"))
