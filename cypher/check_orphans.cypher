// Orphans: elements below tujuan level of the given plans with no CONTRIBUTES_TO path up to a sasaran
// strategis or tujuan (a sasaran needs a path to a tujuan), across plans. Returns plan, id, level,
// statement, and parents: how many elements (in any plan) it contributes to. The no_parent rule reads
// the rows with none: an element without a parent has no path up either, so it is always among these,
// and one query instead of two saved the engine 4 ms of a kabupaten check.
// A first pass up to three steps settles nearly every element (sub kegiatan -> kegiatan -> program ->
// sasaran) and the unbounded pass runs only for the rest: the same answer, with fewer paths walked
// (17.6 -> 10.2 ms for a kabupaten). The ancestor is left unlabelled: CONTRIBUTES_TO joins elements
// only, and a label test on the far end of a variable-length pattern made the embedded engine 3x slower.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level <> 'tujuan'
OPTIONAL MATCH (e)-[:CONTRIBUTES_TO*1..3]->(a)
WHERE a.level = 'tujuan' OR (a.level = 'sasaran' AND e.level <> 'sasaran')
WITH e, count(a) AS near
WHERE near = 0
OPTIONAL MATCH (e)-[:CONTRIBUTES_TO*1..]->(a)
WHERE a.level = 'tujuan' OR (a.level = 'sasaran' AND e.level <> 'sasaran')
WITH e, count(a) AS anchors
WHERE anchors = 0
OPTIONAL MATCH (e)-[r:CONTRIBUTES_TO]->()
WITH e, count(r) AS parents
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement, parents
ORDER BY plan, e.seq
