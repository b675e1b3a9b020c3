// Orphans: elements below tujuan level of the given plans with no CONTRIBUTES_TO path up to a sasaran
// strategis or tujuan (a sasaran needs a path to a tujuan), across plans. Returns plan, id, level, statement.
// The ancestor is left unlabelled on purpose: CONTRIBUTES_TO joins elements only, and a label test on
// the far end of a variable-length pattern made the embedded engine three times slower.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level <> 'tujuan'
OPTIONAL MATCH (e)-[:CONTRIBUTES_TO*1..]->(a)
WHERE a.level = 'tujuan' OR (a.level = 'sasaran' AND e.level <> 'sasaran')
WITH e, count(a) AS anchors
WHERE anchors = 0
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement
ORDER BY plan, e.seq
