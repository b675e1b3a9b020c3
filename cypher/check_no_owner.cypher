// Elements of the given plans that no jabatan owns. Returns plan, id, level, statement.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
OPTIONAL MATCH (e)-[r:OWNED_BY]->()
WITH e, r
WHERE r IS NULL
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement
ORDER BY plan, e.seq
