// Budget roll-up: elements of the given plans whose pagu differs from the sum of the pagu of their
// budgeted contributors in the same plan. Returns plan, id, level, pagu, the sum, and the contributors summed
// with their places in the document (seqs, in the same order): the engine collects them in its own
// order, which a reload changes, and the rule lists them in document order (sorting them here, before
// the grouping, cost half the query's time again). Also whether the parent's figure, and which contributors'
// figures, are written malformed, as written (the sum is then of guesses: the rule says so instead of a
// difference, unless only a stray space is wrong), and the
// budget versions of the parent and its contributors (figures of two versions are not compared): read for the
// mismatched parents only, by a second walk of their edges (collected for every parent: 2.4 ms more of 6).
UNWIND $plan_ids AS plan_id
MATCH (p:Element {plan: plan_id})
WHERE p.pagu IS NOT NULL
MATCH (c)-[:CONTRIBUTES_TO]->(p)
WHERE c.plan = plan_id AND c.pagu IS NOT NULL
WITH p, sum(c.pagu) AS children_sum, collect(c.id) AS children, collect(c.seq) AS seqs
WHERE children_sum <> p.pagu
MATCH (m)-[:CONTRIBUTES_TO]->(p)
WHERE m.plan = p.plan AND m.pagu IS NOT NULL
WITH p, children_sum, children, seqs, collect(CASE WHEN m.anggaran_wellformed = false THEN m.id END) AS malformed,
     collect(CASE WHEN m.anggaran_wellformed = false THEN m.anggaran_raw END) AS malformed_raw,
     collect(DISTINCT m.anggaran_versi) AS versions
RETURN p.plan AS plan, p.id AS id, p.level AS level, p.pagu AS pagu, p.anggaran_raw AS raw, children_sum, children,
       seqs, p.anggaran_wellformed = false AS parent_malformed, malformed, malformed_raw, p.anggaran_versi AS versi, versions
ORDER BY plan, p.seq
