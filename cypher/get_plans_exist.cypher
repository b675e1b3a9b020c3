// Which of the given plan ids are loaded.
UNWIND $plan_ids AS plan_id
MATCH (p:Plan {id: plan_id})
RETURN p.id AS id
