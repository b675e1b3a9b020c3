// Every path from one element up to a top element (one with no parent), across plans:
// each path as a list of steps {uid, plan, id, level, statement, indikator}, starting at the element,
// each step with its indikator as stored (in no particular order: the caller sorts them by seq).
// No row at all: the element does not exist (an element always has the path of itself alone).
// The steps are unwound before reading their indikator: a pattern comprehension inside a list
// comprehension over nodes(p) matched every indikator of the graph on the embedded engine.
MATCH (n:Element {plan: split($uid, '/')[0], uid: $uid})
MATCH p = (n)-[:CONTRIBUTES_TO*0..]->(top)
WHERE NOT (top)-[:CONTRIBUTES_TO]->()
WITH p, length(p) AS hops, top.uid AS top_uid
UNWIND range(0, hops) AS k
WITH p, hops, top_uid, k, nodes(p)[k] AS x
WITH p, hops, top_uid, k, x {.uid, .plan, .id, .level, .statement, indikator: [(x)-[:MEASURED_BY]->(i:Indikator) | i {.*}]} AS step
ORDER BY k
WITH p, hops, top_uid, collect(step) AS path
RETURN path, hops
ORDER BY hops, top_uid
