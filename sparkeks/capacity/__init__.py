"""Platform capacity: which pods the stack runs where, what they request, and whether the fixed-size
system node group holds them (`python -m sparkeks plan` refuses a stack whose system nodes are too small)."""
