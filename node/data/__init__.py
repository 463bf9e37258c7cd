"""The simulated data plane: indices and shards in the cluster state, shard copies counted in each node's sqlite,
and the writes, searches and reindexes that produce Elasticsearch's task trees.

Documents are counted, not stored: simcluster simulates work and its tasks, it is not a search engine. The
composition root builds one `node.data.plane.DataPlane`; this package imports nothing itself, so the action modules
it wires (`node.actions.bulk`, `search`, `reindex`, ...) can import its pure modules without a cycle.
"""
