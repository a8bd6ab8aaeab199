"""Ingest: edX deliveries and tracking logs, decrypted and parsed, into bronze Parquet."""
