// The statement and nomenclature name of every element of the given plans (the checks pages name the
// elements their findings list). Returns plan, id, statement and nomenklatur_name (null when none).
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
RETURN e.plan AS plan, e.id AS id, e.statement AS statement, e.nomenklatur_name AS nomenklatur_name
