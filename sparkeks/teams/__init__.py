"""Teams as elastic queues: the resolved queue tree, its checks, YARN queue import and the report."""
