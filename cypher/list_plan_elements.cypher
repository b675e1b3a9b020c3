// The element ids of one plan (used to check cross-plan parents before a load).
MATCH (e:Element {plan: $plan_id})
RETURN e.id AS id
