// Orphans: elements below tujuan level of one plan with no CONTRIBUTES_TO path up to a sasaran
// strategis or tujuan (a sasaran needs a path to a tujuan), across plans. Returns id, level, statement.
MATCH (e:Element {plan: $plan_id})
WHERE e.level <> 'tujuan'
OPTIONAL MATCH (e)-[:CONTRIBUTES_TO*1..]->(a:Element)
WHERE a.level = 'tujuan' OR (a.level = 'sasaran' AND e.level <> 'sasaran')
WITH e, count(a) AS anchors
WHERE anchors = 0
RETURN e.id AS id, e.level AS level, e.statement AS statement
ORDER BY e.seq
