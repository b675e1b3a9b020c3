// Indikator of the given plans without any target. Returns plan, the element id and level, the
// indikator id and name.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})-[:MEASURED_BY]->(i)
WHERE NOT i.has_target
RETURN e.plan AS plan, e.id AS id, e.level AS level, i.id AS indikator_id, i.name AS indikator
ORDER BY plan, e.seq, i.seq
