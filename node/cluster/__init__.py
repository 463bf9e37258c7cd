"""The cluster as one node sees it (ES `org.elasticsearch.cluster`): the immutable `ClusterState` and
`DiscoveryNode` values, node selectors, and the `ClusterService` that owns the applied state.
"""
