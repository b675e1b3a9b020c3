// The same indikator (compared by normalised name) on an element of the given plans and on an element
// it contributes to. Returns plan, child id and level, parent uid and level, and the indikator name.
UNWIND $plan_ids AS plan_id
MATCH (c:Element {plan: plan_id})-[:CONTRIBUTES_TO]->(p)
MATCH (c)-[:MEASURED_BY]->(ci)
MATCH (p)-[:MEASURED_BY]->(pi)
WHERE ci.name_key = pi.name_key
RETURN c.plan AS plan, c.id AS child, c.level AS child_level, p.uid AS parent_uid, p.level AS parent_level,
       ci.name AS indikator
ORDER BY plan, c.seq
