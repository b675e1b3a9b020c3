// Budget roll-up: elements of the given plans whose pagu differs from the sum of the pagu of their
// budgeted contributors in the same plan. Returns plan, id, level, pagu, the sum, and the contributors summed.
// The contributors are listed in document order (collected in the engine's own order, they came out
// in another order in a store with another history, and a report diffed between revisions changed).
UNWIND $plan_ids AS plan_id
MATCH (p:Element {plan: plan_id})
WHERE p.pagu IS NOT NULL
MATCH (c)-[:CONTRIBUTES_TO]->(p)
WHERE c.plan = plan_id AND c.pagu IS NOT NULL
WITH p, c
ORDER BY c.seq
WITH p, sum(c.pagu) AS children_sum, collect(c.id) AS children
WHERE children_sum <> p.pagu
RETURN p.plan AS plan, p.id AS id, p.level AS level, p.pagu AS pagu, p.anggaran_raw AS raw, children_sum, children
ORDER BY plan, p.seq
