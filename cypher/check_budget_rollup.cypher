// Budget roll-up: elements of one plan whose pagu differs from the sum of the pagu of their budgeted
// contributors in the same plan. Returns id, level, pagu, the sum, and the contributors summed.
MATCH (p:Element {plan: $plan_id})
WHERE p.pagu IS NOT NULL
MATCH (c:Element {plan: $plan_id})-[:CONTRIBUTES_TO]->(p)
WHERE c.pagu IS NOT NULL
WITH p, sum(c.pagu) AS children_sum, collect(c.id) AS children
WHERE children_sum <> p.pagu
RETURN p.id AS id, p.level AS level, p.pagu AS pagu, p.anggaran_raw AS raw, children_sum, children
ORDER BY p.seq
