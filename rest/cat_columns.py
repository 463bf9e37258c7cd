"""The full column lists of `_cat/nodes` and `_cat/shards`, in ES 9's order with ES's attributes, as
`RestNodesAction#getTableWithHeader` and `RestShardsAction#getTableWithHeader` declare them (`addCell(name,
"default:false;alias:...;text-align:right;desc:...")`, kept verbatim and read by `es_columns`)."""

from __future__ import annotations

from rest.cat import Column, es_columns

__all__ = ["NODES_COLUMNS", "SHARDS_COLUMNS"]

NODES_COLUMNS: tuple[Column, ...] = es_columns(
    (
        ("id", "default:false;alias:id,nodeId;desc:unique node id"),
        ("pid", "default:false;alias:p;desc:process id"),
        ("ip", "alias:i;desc:ip address"),
        ("port", "default:false;alias:po;desc:bound transport port"),
        ("http_address", "default:false;alias:http;desc:bound http address"),
        ("version", "default:false;alias:v;desc:es version"),
        ("type", "default:false;alias:t;desc:es distribution type"),
        ("build", "default:false;alias:b;desc:es build hash"),
        ("jdk", "default:false;alias:j;desc:jdk version"),
        ("disk.total", "default:false;alias:dt,diskTotal;text-align:right;desc:total disk space"),
        ("disk.used", "default:false;alias:du,diskUsed;text-align:right;desc:used disk space"),
        ("disk.avail", "default:false;alias:d,da,disk,diskAvail;text-align:right;desc:available disk space"),
        (
            "disk.used_percent",
            "default:false;alias:dup,diskUsedPercent;text-align:right;desc:used disk space percentage",
        ),
        ("heap.current", "default:false;alias:hc,heapCurrent;text-align:right;desc:used heap"),
        ("heap.percent", "alias:hp,heapPercent;text-align:right;desc:used heap ratio"),
        ("heap.max", "default:false;alias:hm,heapMax;text-align:right;desc:max configured heap"),
        ("ram.current", "default:false;alias:rc,ramCurrent;text-align:right;desc:used machine memory"),
        ("ram.percent", "alias:rp,ramPercent;text-align:right;desc:used machine memory ratio"),
        ("ram.max", "default:false;alias:rm,ramMax;text-align:right;desc:total machine memory"),
        (
            "file_desc.current",
            "default:false;alias:fdc,fileDescriptorCurrent;text-align:right;desc:used file descriptors",
        ),
        (
            "file_desc.percent",
            "default:false;alias:fdp,fileDescriptorPercent;text-align:right;desc:used file descriptor ratio",
        ),
        ("file_desc.max", "default:false;alias:fdm,fileDescriptorMax;text-align:right;desc:max file descriptors"),
        ("cpu", "alias:cpu;text-align:right;desc:recent cpu usage"),
        ("load_1m", "alias:l;text-align:right;desc:1m load avg"),
        ("load_5m", "alias:l;text-align:right;desc:5m load avg"),
        ("load_15m", "alias:l;text-align:right;desc:15m load avg"),
        (
            "available_processors",
            "default:false;alias:ap,availableProcessors;text-align:right;desc:available processors",
        ),
        ("uptime", "default:false;alias:u;text-align:right;desc:node uptime"),
        (
            "node.role",
            "alias:r,role,nodeRole;desc:m:master eligible node, d:data node, i:ingest node, -:coordinating node only",
        ),
        ("master", "alias:m;desc:*:current master"),
        ("name", "alias:n;desc:node name"),
        ("completion.size", "alias:cs,completionSize;default:false;text-align:right;desc:size of completion"),
        ("fielddata.memory_size", "alias:fm,fielddataMemory;default:false;text-align:right;desc:used fielddata cache"),
        ("fielddata.evictions", "alias:fe,fielddataEvictions;default:false;text-align:right;desc:fielddata evictions"),
        ("query_cache.memory_size", "alias:qcm,queryCacheMemory;default:false;text-align:right;desc:used query cache"),
        (
            "query_cache.evictions",
            "alias:qce,queryCacheEvictions;default:false;text-align:right;desc:query cache evictions",
        ),
        (
            "query_cache.hit_count",
            "alias:qchc,queryCacheHitCount;default:false;text-align:right;desc:query cache hit counts",
        ),
        (
            "query_cache.miss_count",
            "alias:qcmc,queryCacheMissCount;default:false;text-align:right;desc:query cache miss counts",
        ),
        (
            "request_cache.memory_size",
            "alias:rcm,requestCacheMemory;default:false;text-align:right;desc:used request cache",
        ),
        (
            "request_cache.evictions",
            "alias:rce,requestCacheEvictions;default:false;text-align:right;desc:request cache evictions",
        ),
        (
            "request_cache.hit_count",
            "alias:rchc,requestCacheHitCount;default:false;text-align:right;desc:request cache hit counts",
        ),
        (
            "request_cache.miss_count",
            "alias:rcmc,requestCacheMissCount;default:false;text-align:right;desc:request cache miss counts",
        ),
        ("flush.total", "alias:ft,flushTotal;default:false;text-align:right;desc:number of flushes"),
        ("flush.total_time", "alias:ftt,flushTotalTime;default:false;text-align:right;desc:time spent in flush"),
        ("get.current", "alias:gc,getCurrent;default:false;text-align:right;desc:number of current get ops"),
        ("get.time", "alias:gti,getTime;default:false;text-align:right;desc:time spent in get"),
        ("get.total", "alias:gto,getTotal;default:false;text-align:right;desc:number of get ops"),
        (
            "get.exists_time",
            "alias:geti,getExistsTime;default:false;text-align:right;desc:time spent in successful gets",
        ),
        ("get.exists_total", "alias:geto,getExistsTotal;default:false;text-align:right;desc:number of successful gets"),
        ("get.missing_time", "alias:gmti,getMissingTime;default:false;text-align:right;desc:time spent in failed gets"),
        ("get.missing_total", "alias:gmto,getMissingTotal;default:false;text-align:right;desc:number of failed gets"),
        (
            "indexing.delete_current",
            "alias:idc,indexingDeleteCurrent;default:false;text-align:right;desc:number of current deletions",
        ),
        (
            "indexing.delete_time",
            "alias:idti,indexingDeleteTime;default:false;text-align:right;desc:time spent in deletions",
        ),
        (
            "indexing.delete_total",
            "alias:idto,indexingDeleteTotal;default:false;text-align:right;desc:number of delete ops",
        ),
        (
            "indexing.index_current",
            "alias:iic,indexingIndexCurrent;default:false;text-align:right;desc:number of current indexing ops",
        ),
        (
            "indexing.index_time",
            "alias:iiti,indexingIndexTime;default:false;text-align:right;desc:time spent in indexing",
        ),
        (
            "indexing.index_total",
            "alias:iito,indexingIndexTotal;default:false;text-align:right;desc:number of indexing ops",
        ),
        (
            "indexing.index_failed",
            "alias:iif,indexingIndexFailed;default:false;text-align:right;desc:number of failed indexing ops",
        ),
        (
            "indexing.index_failed_due_to_version_conflict",
            "alias:iifvc,indexingIndexFailedDueToVersionConflict;default:false;text-align:right;desc:number of failed indexing ops due to version conflict",
        ),
        ("merges.current", "alias:mc,mergesCurrent;default:false;text-align:right;desc:number of current merges"),
        (
            "merges.current_docs",
            "alias:mcd,mergesCurrentDocs;default:false;text-align:right;desc:number of current merging docs",
        ),
        (
            "merges.current_size",
            "alias:mcs,mergesCurrentSize;default:false;text-align:right;desc:size of current merges",
        ),
        ("merges.total", "alias:mt,mergesTotal;default:false;text-align:right;desc:number of completed merge ops"),
        ("merges.total_docs", "alias:mtd,mergesTotalDocs;default:false;text-align:right;desc:docs merged"),
        ("merges.total_size", "alias:mts,mergesTotalSize;default:false;text-align:right;desc:size merged"),
        ("merges.total_time", "alias:mtt,mergesTotalTime;default:false;text-align:right;desc:time spent in merges"),
        ("refresh.total", "alias:rto,refreshTotal;default:false;text-align:right;desc:total refreshes"),
        ("refresh.time", "alias:rti,refreshTime;default:false;text-align:right;desc:time spent in refreshes"),
        (
            "refresh.external_total",
            "alias:rto,refreshTotal;default:false;text-align:right;desc:total external refreshes",
        ),
        (
            "refresh.external_time",
            "alias:rti,refreshTime;default:false;text-align:right;desc:time spent in external refreshes",
        ),
        (
            "refresh.listeners",
            "alias:rli,refreshListeners;default:false;text-align:right;desc:number of pending refresh listeners",
        ),
        (
            "script.compilations",
            "alias:scrcc,scriptCompilations;default:false;text-align:right;desc:script compilations",
        ),
        (
            "script.cache_evictions",
            "alias:scrce,scriptCacheEvictions;default:false;text-align:right;desc:script cache evictions",
        ),
        (
            "script.compilation_limit_triggered",
            "alias:scrclt,scriptCacheCompilationLimitTriggered;default:false;text-align:right;desc:script cache compilation limit triggered",
        ),
        (
            "search.fetch_current",
            "alias:sfc,searchFetchCurrent;default:false;text-align:right;desc:current fetch phase ops",
        ),
        (
            "search.fetch_time",
            "alias:sfti,searchFetchTime;default:false;text-align:right;desc:time spent in fetch phase",
        ),
        ("search.fetch_total", "alias:sfto,searchFetchTotal;default:false;text-align:right;desc:total fetch ops"),
        (
            "search.open_contexts",
            "alias:so,searchOpenContexts;default:false;text-align:right;desc:open search contexts",
        ),
        (
            "search.query_current",
            "alias:sqc,searchQueryCurrent;default:false;text-align:right;desc:current query phase ops",
        ),
        (
            "search.query_time",
            "alias:sqti,searchQueryTime;default:false;text-align:right;desc:time spent in query phase",
        ),
        ("search.query_total", "alias:sqto,searchQueryTotal;default:false;text-align:right;desc:total query phase ops"),
        (
            "search.scroll_current",
            "alias:scc,searchScrollCurrent;default:false;text-align:right;desc:open scroll contexts",
        ),
        (
            "search.scroll_time",
            "alias:scti,searchScrollTime;default:false;text-align:right;desc:time scroll contexts held open",
        ),
        (
            "search.scroll_total",
            "alias:scto,searchScrollTotal;default:false;text-align:right;desc:completed scroll contexts",
        ),
        ("segments.count", "alias:sc,segmentsCount;default:false;text-align:right;desc:number of segments"),
        ("segments.memory", "alias:sm,segmentsMemory;default:false;text-align:right;desc:memory used by segments"),
        (
            "segments.index_writer_memory",
            "alias:siwm,segmentsIndexWriterMemory;default:false;text-align:right;desc:memory used by index writer",
        ),
        (
            "segments.version_map_memory",
            "alias:svmm,segmentsVersionMapMemory;default:false;text-align:right;desc:memory used by version map",
        ),
        (
            "segments.fixed_bitset_memory",
            "alias:sfbm,fixedBitsetMemory;default:false;text-align:right;desc:memory used by fixed bit sets for nested object field types and type filters for types referred in _parent fields",
        ),
        (
            "suggest.current",
            "alias:suc,suggestCurrent;default:false;text-align:right;desc:number of current suggest ops",
        ),
        ("suggest.time", "alias:suti,suggestTime;default:false;text-align:right;desc:time spend in suggest"),
        ("suggest.total", "alias:suto,suggestTotal;default:false;text-align:right;desc:number of suggest ops"),
        (
            "bulk.total_operations",
            "alias:bto,bulkTotalOperations;default:false;text-align:right;desc:number of bulk shard ops",
        ),
        ("bulk.total_time", "alias:btti,bulkTotalTime;default:false;text-align:right;desc:time spend in shard bulk"),
        (
            "bulk.total_size_in_bytes",
            "alias:btsi,bulkTotalSizeInBytes;default:false;text-align:right;desc:total size in bytes of shard bulk",
        ),
        (
            "bulk.avg_time",
            "alias:bati,bulkAvgTime;default:false;text-align:right;desc:average time spend in shard bulk",
        ),
        (
            "bulk.avg_size_in_bytes",
            "alias:basi,bulkAvgSizeInBytes;default:false;text-align:right;desc:average size in bytes of shard bulk",
        ),
        (
            "shard_stats.total_count",
            "alias:sstc,shards,shardStatsTotalCount;default:false;text-align:right;desc:number of shards assigned",
        ),
        ("mappings.total_count", "alias:mtc,mappingsTotalCount;default:false;text-align:right;desc:number of mappings"),
        (
            "mappings.total_estimated_overhead_in_bytes",
            "alias:mteo,mappingsTotalEstimatedOverheadInBytes;default:false;text-align:right;desc:estimated overhead in bytes of mappings",
        ),
    )
)

SHARDS_COLUMNS: tuple[Column, ...] = es_columns(
    (
        ("index", "default:true;alias:i,idx;desc:index name"),
        ("shard", "default:true;alias:s,sh;desc:shard name"),
        ("prirep", "alias:p,pr,primaryOrReplica;default:true;desc:primary or replica"),
        ("state", "default:true;alias:st;desc:shard state"),
        ("docs", "alias:d,dc;text-align:right;desc:number of docs in shard"),
        ("store", "alias:sto;text-align:right;desc:store size of shard (how much disk it uses)"),
        ("dataset", "text-align:right;desc:total size of dataset"),
        ("ip", "default:true;desc:ip of node where it lives"),
        ("id", "default:false;desc:unique id of node where it lives"),
        ("node", "default:true;alias:n;desc:name of node where it lives"),
        ("sync_id", "alias:sync_id;default:false;desc:sync id"),
        ("unassigned.reason", "alias:ur;default:false;desc:reason shard became unassigned"),
        ("unassigned.at", "alias:ua;default:false;desc:time shard became unassigned (UTC)"),
        ("unassigned.for", "alias:uf;default:false;text-align:right;desc:time has been unassigned"),
        ("unassigned.details", "alias:ud;default:false;desc:additional details as to why the shard became unassigned"),
        ("recoverysource.type", "alias:rs;default:false;desc:recovery source type"),
        ("completion.size", "alias:cs,completionSize;default:false;text-align:right;desc:size of completion"),
        ("fielddata.memory_size", "alias:fm,fielddataMemory;default:false;text-align:right;desc:used fielddata cache"),
        ("fielddata.evictions", "alias:fe,fielddataEvictions;default:false;text-align:right;desc:fielddata evictions"),
        ("query_cache.memory_size", "alias:qcm,queryCacheMemory;default:false;text-align:right;desc:used query cache"),
        (
            "query_cache.evictions",
            "alias:qce,queryCacheEvictions;default:false;text-align:right;desc:query cache evictions",
        ),
        ("flush.total", "alias:ft,flushTotal;default:false;text-align:right;desc:number of flushes"),
        ("flush.total_time", "alias:ftt,flushTotalTime;default:false;text-align:right;desc:time spent in flush"),
        ("get.current", "alias:gc,getCurrent;default:false;text-align:right;desc:number of current get ops"),
        ("get.time", "alias:gti,getTime;default:false;text-align:right;desc:time spent in get"),
        ("get.total", "alias:gto,getTotal;default:false;text-align:right;desc:number of get ops"),
        (
            "get.exists_time",
            "alias:geti,getExistsTime;default:false;text-align:right;desc:time spent in successful gets",
        ),
        ("get.exists_total", "alias:geto,getExistsTotal;default:false;text-align:right;desc:number of successful gets"),
        ("get.missing_time", "alias:gmti,getMissingTime;default:false;text-align:right;desc:time spent in failed gets"),
        ("get.missing_total", "alias:gmto,getMissingTotal;default:false;text-align:right;desc:number of failed gets"),
        (
            "indexing.delete_current",
            "alias:idc,indexingDeleteCurrent;default:false;text-align:right;desc:number of current deletions",
        ),
        (
            "indexing.delete_time",
            "alias:idti,indexingDeleteTime;default:false;text-align:right;desc:time spent in deletions",
        ),
        (
            "indexing.delete_total",
            "alias:idto,indexingDeleteTotal;default:false;text-align:right;desc:number of delete ops",
        ),
        (
            "indexing.index_current",
            "alias:iic,indexingIndexCurrent;default:false;text-align:right;desc:number of current indexing ops",
        ),
        (
            "indexing.index_time",
            "alias:iiti,indexingIndexTime;default:false;text-align:right;desc:time spent in indexing",
        ),
        (
            "indexing.index_total",
            "alias:iito,indexingIndexTotal;default:false;text-align:right;desc:number of indexing ops",
        ),
        (
            "indexing.index_failed",
            "alias:iif,indexingIndexFailed;default:false;text-align:right;desc:number of failed indexing ops",
        ),
        ("merges.current", "alias:mc,mergesCurrent;default:false;text-align:right;desc:number of current merges"),
        (
            "merges.current_docs",
            "alias:mcd,mergesCurrentDocs;default:false;text-align:right;desc:number of current merging docs",
        ),
        (
            "merges.current_size",
            "alias:mcs,mergesCurrentSize;default:false;text-align:right;desc:size of current merges",
        ),
        ("merges.total", "alias:mt,mergesTotal;default:false;text-align:right;desc:number of completed merge ops"),
        ("merges.total_docs", "alias:mtd,mergesTotalDocs;default:false;text-align:right;desc:docs merged"),
        ("merges.total_size", "alias:mts,mergesTotalSize;default:false;text-align:right;desc:size merged"),
        ("merges.total_time", "alias:mtt,mergesTotalTime;default:false;text-align:right;desc:time spent in merges"),
        ("refresh.total", "alias:rto,refreshTotal;default:false;text-align:right;desc:total refreshes"),
        ("refresh.time", "alias:rti,refreshTime;default:false;text-align:right;desc:time spent in refreshes"),
        (
            "refresh.external_total",
            "alias:rto,refreshTotal;default:false;text-align:right;desc:total external refreshes",
        ),
        (
            "refresh.external_time",
            "alias:rti,refreshTime;default:false;text-align:right;desc:time spent in external refreshes",
        ),
        (
            "refresh.listeners",
            "alias:rli,refreshListeners;default:false;text-align:right;desc:number of pending refresh listeners",
        ),
        (
            "search.fetch_current",
            "alias:sfc,searchFetchCurrent;default:false;text-align:right;desc:current fetch phase ops",
        ),
        (
            "search.fetch_time",
            "alias:sfti,searchFetchTime;default:false;text-align:right;desc:time spent in fetch phase",
        ),
        ("search.fetch_total", "alias:sfto,searchFetchTotal;default:false;text-align:right;desc:total fetch ops"),
        (
            "search.open_contexts",
            "alias:so,searchOpenContexts;default:false;text-align:right;desc:open search contexts",
        ),
        (
            "search.query_current",
            "alias:sqc,searchQueryCurrent;default:false;text-align:right;desc:current query phase ops",
        ),
        (
            "search.query_time",
            "alias:sqti,searchQueryTime;default:false;text-align:right;desc:time spent in query phase",
        ),
        ("search.query_total", "alias:sqto,searchQueryTotal;default:false;text-align:right;desc:total query phase ops"),
        (
            "search.scroll_current",
            "alias:scc,searchScrollCurrent;default:false;text-align:right;desc:open scroll contexts",
        ),
        (
            "search.scroll_time",
            "alias:scti,searchScrollTime;default:false;text-align:right;desc:time scroll contexts held open",
        ),
        (
            "search.scroll_total",
            "alias:scto,searchScrollTotal;default:false;text-align:right;desc:completed scroll contexts",
        ),
        ("segments.count", "alias:sc,segmentsCount;default:false;text-align:right;desc:number of segments"),
        ("segments.memory", "alias:sm,segmentsMemory;default:false;text-align:right;desc:memory used by segments"),
        (
            "segments.index_writer_memory",
            "alias:siwm,segmentsIndexWriterMemory;default:false;text-align:right;desc:memory used by index writer",
        ),
        (
            "segments.version_map_memory",
            "alias:svmm,segmentsVersionMapMemory;default:false;text-align:right;desc:memory used by version map",
        ),
        (
            "segments.fixed_bitset_memory",
            "alias:sfbm,fixedBitsetMemory;default:false;text-align:right;desc:memory used by fixed bit sets for nested object field types and type filters for types referred in _parent fields",
        ),
        ("seq_no.max", "alias:sqm,maxSeqNo;default:false;text-align:right;desc:max sequence number"),
        ("seq_no.local_checkpoint", "alias:sql,localCheckpoint;default:false;text-align:right;desc:local checkpoint"),
        (
            "seq_no.global_checkpoint",
            "alias:sqg,globalCheckpoint;default:false;text-align:right;desc:global checkpoint",
        ),
        ("warmer.current", "alias:wc,warmerCurrent;default:false;text-align:right;desc:current warmer ops"),
        ("warmer.total", "alias:wto,warmerTotal;default:false;text-align:right;desc:total warmer ops"),
        ("warmer.total_time", "alias:wtt,warmerTotalTime;default:false;text-align:right;desc:time spent in warmers"),
        ("path.data", "alias:pd,dataPath;default:false;text-align:right;desc:shard data path"),
        ("path.state", "alias:ps,statsPath;default:false;text-align:right;desc:shard state path"),
        ("refresh.is_search_idle", "alias:rsi,refreshSearchIdle;default:false;text-align:right;desc:shard idle state"),
        (
            "bulk.total_operations",
            "alias:bto,bulkTotalOperations;default:false;text-align:right;desc:number of bulk shard ops",
        ),
        ("bulk.total_time", "alias:btti,bulkTotalTime;default:false;text-align:right;desc:time spend in shard bulk"),
        (
            "bulk.total_size_in_bytes",
            "alias:btsi,bulkTotalSizeInBytes;default:false;text-align:right;desc:total size in bytes of shard bulk",
        ),
        (
            "bulk.avg_time",
            "alias:bati,bulkAvgTime;default:false;text-align:right;desc:average time spend in shard bulk",
        ),
        (
            "bulk.avg_size_in_bytes",
            "alias:basi,bulkAvgSizeInBytes;default:false;text-align:right;desc:avg size in bytes of shard bulk",
        ),
        (
            "dense_vector.value_count",
            "alias:dvc,denseVectorCount;default:false;text-align:right;desc:number of indexed dense vectors in shard",
        ),
        (
            "sparse_vector.value_count",
            "alias:svc,sparseVectorCount;default:false;text-align:right;desc:number of indexed sparse vectors in shard",
        ),
    )
)
