// Candidates for the condition_wording rule: elements of the given levels ($condition_levels) whose
// statement's first word does not end in '-nya' as written (Meningkatnya, Terwujudnya and Tersedianya
// do; Program ..., Penyelenggaraan ... or a missing text do not). The caller confirms on the trimmed,
// lower-cased word ('MENINGKATNYA' is a condition too) and tells a copied nomenclature name apart.
// split() is most of the cost (4.6 ms for a kabupaten's 5,000 elements; trim and toLower here took 16).
// Returns plan, id, level, statement and the nomenclature name.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level IN $condition_levels AND NOT split(e.statement, ' ')[0] ENDS WITH 'nya'
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement, e.nomenklatur_name AS nomenklatur_name
ORDER BY plan, e.seq
