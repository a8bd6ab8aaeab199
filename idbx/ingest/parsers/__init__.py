"""Pure parsing: file names, course table dumps, MySQL dumps and tracking logs into DuckDB relations."""

# How much of a rejected line's raw text is kept beside its reason.
RAW_CLIP = 2000
