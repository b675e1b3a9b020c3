// Elements of one plan that lie on a CONTRIBUTES_TO cycle (loading refuses cycles; this is the
// defensive check for data written by other means). Returns id, level, statement.
MATCH (e:Element {plan: $plan_id})
MATCH (e)-[:CONTRIBUTES_TO*1..]->(e)
WITH DISTINCT e
RETURN e.id AS id, e.level AS level, e.statement AS statement
ORDER BY e.seq
