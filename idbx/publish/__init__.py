"""Publishing the marts to MongoDB for the dashboards (`idbx publish`, the build-and-publish flow).

documents.py builds the documents and their hashes as DuckDB SQL (pure), marts.py reads the
marts, mongo.py talks to the server, publisher.py puts them together; settings.py resolves where
to. The local MongoDB-wire server of the demo and the tests is idbx.local.mongo.

The names below are loaded on first use: every command imports idbx.publish.settings (the CLI
registers all commands at start), and pymongo costs a tenth of a second that `idbx ingest` and
the others would pay for nothing.
"""

import importlib

_FROM = {
    "PublishError": "idbx.publish.mongo",
    "learners_query": "idbx.publish.mongo",
    "CollectionOutcome": "idbx.publish.publisher",
    "PublishSummary": "idbx.publish.publisher",
    "publish": "idbx.publish.publisher",
    "MongoSettings": "idbx.publish.settings",
}

__all__ = sorted(_FROM)


def __getattr__(name: str) -> object:
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_FROM[name]), name)
