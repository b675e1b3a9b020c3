// The same indikator (compared by normalised name) on an element and on an element it contributes to.
// Returns child and parent ids and levels, and the indikator name.
MATCH (c:Element {plan: $plan_id})-[:CONTRIBUTES_TO]->(p:Element)
MATCH (c)-[:MEASURED_BY]->(ci:Indikator)
MATCH (p)-[:MEASURED_BY]->(pi:Indikator)
WHERE ci.name_key = pi.name_key
RETURN c.id AS child, c.level AS child_level, p.uid AS parent_uid, p.level AS parent_level, ci.name AS indikator
ORDER BY c.seq
