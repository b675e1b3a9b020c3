// Elements of the given plans that lie on a CONTRIBUTES_TO cycle (loading refuses cycles; this is the
// defensive check for data written by other means). Returns plan, id, level, statement.
// Only elements something contributes to can lie on a cycle: looking for the cycle from those alone
// skips the sub kegiatan, most of a plan (a third of the query's time on a kabupaten).
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})<-[:CONTRIBUTES_TO]-()
WITH DISTINCT e
MATCH (e)-[:CONTRIBUTES_TO*1..]->(e)
WITH DISTINCT e
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement
ORDER BY plan, e.seq
