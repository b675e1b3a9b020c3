// Elements of one plan without any indikator. Returns id, level, statement.
MATCH (e:Element {plan: $plan_id})
WHERE NOT (e)-[:MEASURED_BY]->()
RETURN e.id AS id, e.level AS level, e.statement AS statement
ORDER BY e.seq
