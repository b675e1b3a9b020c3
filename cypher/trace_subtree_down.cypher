// Everything below one element (its contributors, recursively), each once with its parents,
// anggaran and the number of its indikator.
MATCH (n:Element {plan: split($uid, '/')[0], uid: $uid})
MATCH (d)-[:CONTRIBUTES_TO*1..]->(n)
WITH DISTINCT d
OPTIONAL MATCH (d)-[:CONTRIBUTES_TO]->(p)
WITH d, collect(p.uid) AS parents
OPTIONAL MATCH (d)-[:MEASURED_BY]->(i)
RETURN d {.uid, .plan, .id, .level, .statement, .pagu, .seq} AS element, parents, count(i) AS n_indikator
ORDER BY element.plan, element.seq
