// For each element of one plan at the given level: the sum of pagu of the budgeted elements at or
// below it that have no budgeted element between them and it (so nothing is counted twice).
MATCH (s:Element {plan: $plan_id})
WHERE s.level = $level
OPTIONAL MATCH (b)-[:CONTRIBUTES_TO*0..]->(s)
WHERE b.pagu IS NOT NULL
OPTIONAL MATCH (b)-[:CONTRIBUTES_TO*1..]->(mid)-[:CONTRIBUTES_TO*0..]->(s)
WHERE mid.pagu IS NOT NULL
WITH s, b, count(mid) AS budgeted_between
WITH s, collect(CASE WHEN budgeted_between = 0 THEN b.uid END) AS tops,
     sum(CASE WHEN b IS NOT NULL AND budgeted_between = 0 THEN b.pagu ELSE 0 END) AS anggaran
RETURN s.uid AS uid, s.id AS id, s.statement AS statement, anggaran, tops
ORDER BY s.seq
