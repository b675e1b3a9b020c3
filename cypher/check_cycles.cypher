// Elements of the given plans that lie on a CONTRIBUTES_TO cycle (loading refuses cycles; this is the
// defensive check for data written by other means). Returns plan, id, level, statement.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
MATCH (e)-[:CONTRIBUTES_TO*1..]->(e)
WITH DISTINCT e
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement
ORDER BY plan, e.seq
