// Candidates for an indikator naming two measures joined by 'dan': indikator of the given plans whose
// normalised name (name_key) starts with one of $first_words (the first word of each measure word) and
// has ' dan ' later. The caller confirms the exact pattern (a list predicate per row was ten times
// slower on the embedded engine than this filter; the WITH keeps its planner from scanning every
// node for the filter on i). Returns plan, element id and the indikator name.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WITH e
MATCH (e)-[:MEASURED_BY]->(i)
WHERE i.name_key CONTAINS ' dan ' AND split(i.name_key, ' ')[0] IN $first_words
RETURN e.plan AS plan, e.id AS id, i.name AS indikator, i.name_key AS name_key
ORDER BY plan, e.seq, i.seq
