// Elements of the given plans, other than a tujuan, that contribute to nothing (no parent in any plan).
// Returns plan, id, level, statement. (OPTIONAL MATCH ... IS NULL: a NOT pattern predicate was several
// times slower on the embedded engine.)
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level <> 'tujuan'
OPTIONAL MATCH (e)-[r:CONTRIBUTES_TO]->()
WITH e, r
WHERE r IS NULL
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement
ORDER BY plan, e.seq
