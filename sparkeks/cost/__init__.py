"""Cost estimates from the pinned price table: per stack, per change, per job, DR against EMR."""
