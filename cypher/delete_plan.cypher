// Remove one plan whole (its nodes and their edges, including edges from other plans into it;
// their CrossRef nodes stay, so the edges come back if the plan is loaded again).
// Returns whether the plan existed.
OPTIONAL MATCH (p:Plan {id: $plan_id})
WITH count(p) AS existed
OPTIONAL MATCH (:Element {plan: $plan_id})-[:MEASURED_BY]->(i)
DETACH DELETE i
WITH existed, count(*) AS _
OPTIONAL MATCH (e:Element {plan: $plan_id})
DETACH DELETE e
WITH existed, count(*) AS _
OPTIONAL MATCH (j:Jabatan {plan: $plan_id})
DETACH DELETE j
WITH existed, count(*) AS _
OPTIONAL MATCH (x:CrossRef {plan: $plan_id})
DETACH DELETE x
WITH existed, count(*) AS _
OPTIONAL MATCH (p:Plan {id: $plan_id})
DETACH DELETE p
RETURN max(existed) > 0 AS existed
