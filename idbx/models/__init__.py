"""The model runner: `idbx/sql/` models built into `lake/silver/` and `lake/marts/` (see runner.build)."""
