"""Publishing the marts to MongoDB for the dashboards (`idbx publish`, the build-and-publish flow).

documents.py builds the documents and their hashes as DuckDB SQL (pure), marts.py reads the
marts, mongo.py talks to the server, publisher.py puts them together; settings.py resolves where
to. The local MongoDB-wire server of the demo and the tests is idbx.local.mongo.
"""

from idbx.publish.mongo import PublishError, learners_query
from idbx.publish.publisher import CollectionOutcome, PublishSummary, publish
from idbx.publish.settings import MongoSettings

__all__ = ["CollectionOutcome", "MongoSettings", "PublishError", "PublishSummary", "learners_query", "publish"]
