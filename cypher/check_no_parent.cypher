// Elements of one plan, other than a tujuan, that contribute to nothing (no parent in any plan).
// Returns id, level, statement.
MATCH (e:Element {plan: $plan_id})
WHERE e.level <> 'tujuan' AND NOT (e)-[:CONTRIBUTES_TO]->()
RETURN e.id AS id, e.level AS level, e.statement AS statement
ORDER BY e.seq
