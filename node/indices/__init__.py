"""The data-plane services of one node (ES `org.elasticsearch.indices`): the shard copies it holds (`LocalShards`),
keeping them in line with the applied routing (`IndicesClusterStateService`), peer recovery, the master's reroutes
(`RoutingService`), shard started/failed reports (`ShardStateAction`) and open search contexts.
"""
