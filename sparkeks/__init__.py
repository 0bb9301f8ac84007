"""spark-on-eks: library and command-line tools of the Spark-on-EKS platform toolkit.

`python -m sparkeks --help` lists the commands.
"""
