// Indikator of the given plans naming two measures joined by 'dan': the normalised name starts with one
// of $measure_words and has 'dan <measure word>' later (words given normalised: lower case, one space).
// Returns plan, element id and the indikator name.
UNWIND $plan_ids AS plan_id
MATCH (i:Indikator {plan: plan_id})
// The tests are projected first and filtered after: the embedded engine (FalkorDB 4.x) silently returns
// no rows for `WITH ... WHERE any(...)`. Parentheses matter too: `x STARTS WITH ' ' + w` is read as
// `(x STARTS WITH ' ') + w`.
WITH i, ' ' + i.name_key + ' ' AS padded
WITH i, any(w IN $measure_words WHERE padded STARTS WITH (' ' + w + ' ')) AS starts,
     any(w IN $measure_words WHERE padded CONTAINS (' dan ' + w + ' ')) AS joined
WHERE starts AND joined
MATCH (e)-[:MEASURED_BY]->(i)
RETURN e.plan AS plan, e.id AS id, i.name AS indikator
ORDER BY plan, e.seq, i.seq
