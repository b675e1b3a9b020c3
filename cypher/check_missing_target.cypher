// Indikator of one plan without any target. Returns the element id, level, the indikator id and name.
MATCH (e:Element {plan: $plan_id})-[:MEASURED_BY]->(i:Indikator)
WHERE NOT i.has_target
RETURN e.id AS id, e.level AS level, i.id AS indikator_id, i.name AS indikator
ORDER BY e.seq, i.seq
