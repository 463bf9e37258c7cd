"""The base classes actions are made of (ES `org.elasticsearch.action.support`).

An action states its name, its request and response types and its node, task, master or shard operation; these
classes own the rest — registration, node resolution, fan-out, per-node timeouts, routing to the master, and the
collection of per-node and per-task failures.

    TransportAction                  a named operation run in a task (`execute(task, request)`)
    ├── TransportNodesAction         fan out `[n]` to resolved nodes; per-node responses and failures
    │   └── TransportTasksAction     per-task operation on the nodes holding matching tasks; per-task failures
    ├── TransportMasterNodeAction    run on the elected master; retried across master changes until master_timeout
    └── TransportReplicationAction   `[s]` reroute, `[s][p]` on the primary, `[s][r]` on every replica
"""
