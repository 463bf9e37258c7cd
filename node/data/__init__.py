"""The data plane's model: index metadata, shard routing, cluster settings and the simulated costs, and the parsed
forms of write, search and reindex requests — pure values and functions, no I/O.

The services that act on shard copies live in `node.indices`; the actions that coordinate writes, searches and
reindexes in `node.actions`.
"""
