// Elements of one plan that no jabatan owns. Returns id, level, statement.
MATCH (e:Element {plan: $plan_id})
WHERE NOT (e)-[:OWNED_BY]->()
RETURN e.id AS id, e.level AS level, e.statement AS statement
ORDER BY e.seq
