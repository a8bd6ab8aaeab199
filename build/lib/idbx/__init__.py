"""IDBx Data Engine: edX research data packages into a DuckDB/Parquet lake."""

__version__ = "0.1.0"
