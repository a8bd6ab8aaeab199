"""The lake: its layout and the one writer of its partitions, manifest and runs (store), the one
way any file is written atomically, in the lake or out of it (atomic), what a crash can leave and
how to tell (check), the analysts' DuckDB catalog over it (catalog), and the lock files that tell
a live run from a dead one (locks)."""
