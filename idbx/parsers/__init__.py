"""Pure parsing: file names, course table dumps, MySQL dumps and tracking logs into DuckDB relations."""

# How much of a rejected line's raw text is kept beside its reason.
RAW_CLIP = 2000


def reason_kind(reason: str) -> str:
    """A reject reason without the excerpt of the line some reasons end with (`unparseable time:
    <value>`): what messages print, since the value may be a learner's. The lake keeps it whole."""
    return reason.split(": ", 1)[0]


def reason_kind_sql(expression: str) -> str:
    """reason_kind in SQL, for a reason column counted in DuckDB."""
    return f"split_part({expression}, ': ', 1)"
