// Indikator of tujuan, sasaran and program ($outcome_levels) whose name starts with a word that opens an output
// measure ($first_words: the first word of each configured output word, e.g. 'jumlah' of 'jumlah
// laporan'); the caller confirms the whole configured words on name_key. Elements are narrowed by level
// before their indikator are followed: a fifth of a kabupaten's elements. Returns plan, element id and
// level, the indikator's name and name_key.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level IN $outcome_levels
MATCH (e)-[:MEASURED_BY]->(i)
WITH e, i, split(i.name_key, ' ')[0] AS first
WHERE first IN $first_words
RETURN e.plan AS plan, e.id AS id, e.level AS level, i.name AS indikator, i.name_key AS name_key
ORDER BY plan, e.seq, i.seq
