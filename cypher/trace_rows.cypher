// A trace of one element, in two parts told apart by `part` (one statement: one round trip instead
// of two). No row at all: the element does not exist (it always has the path of itself alone).
// 'path': every path from the element up to a top element (one with no parent), across plans, as a
//   list of steps {uid, plan, id, level, statement, indikator} starting at the element, each step with
//   its indikator's name, satuan, seq and values_json (unordered: the caller sorts them by seq); `hops`
//   and `top_uid` to order by.
//   The steps are unwound before reading their indikator: a pattern comprehension inside a list
//   comprehension over nodes(p) matched every indikator of the graph on the embedded engine.
// 'below': everything below the element (its contributors, recursively), each once as `element` (with
//   .seq to order by), with its parents and the number of its indikator.
MATCH (n:Element {plan: split($uid, '/')[0], uid: $uid})
MATCH p = (n)-[:CONTRIBUTES_TO*0..]->(top)
WHERE NOT (top)-[:CONTRIBUTES_TO]->()
WITH p, length(p) AS hops, top.uid AS top_uid
UNWIND range(0, hops) AS k
WITH p, hops, top_uid, k, nodes(p)[k] AS x
WITH p, hops, top_uid, k, x {.uid, .plan, .id, .level, .statement, indikator: [(x)-[:MEASURED_BY]->(i:Indikator) | i {.name, .satuan, .seq, .values_json}]} AS step
ORDER BY k
WITH p, hops, top_uid, collect(step) AS path
RETURN 'path' AS part, path, hops, top_uid, null AS element, [] AS parents, 0 AS n_indikator
UNION ALL
MATCH (n:Element {plan: split($uid, '/')[0], uid: $uid})
MATCH (d)-[:CONTRIBUTES_TO*1..]->(n)
WITH DISTINCT d
OPTIONAL MATCH (d)-[:CONTRIBUTES_TO]->(p)
WITH d, collect(p.uid) AS parents
OPTIONAL MATCH (d)-[:MEASURED_BY]->(i)
RETURN 'below' AS part, [] AS path, 0 AS hops, null AS top_uid,
       d {.uid, .plan, .id, .level, .statement, .pagu, .anggaran_raw, .anggaran_wellformed, .seq} AS element,
       parents, count(i) AS n_indikator
