"""CSV exports of the marts for staff and BI tools (`idbx report ...`)."""
