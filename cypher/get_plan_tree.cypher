// Every element of one plan in document order, with its parents (uids, across plans too),
// its indikator (as stored) and the jabatan that own it (id and name).
MATCH (e:Element {plan: $plan_id})
OPTIONAL MATCH (e)-[:CONTRIBUTES_TO]->(p)
WITH e, collect(p.uid) AS parents
OPTIONAL MATCH (e)-[:MEASURED_BY]->(i)
WITH e, parents, i
ORDER BY i.seq
WITH e, parents, collect(CASE WHEN i IS NULL THEN null ELSE i {.*} END) AS indikator
OPTIONAL MATCH (e)-[:OWNED_BY]->(j)
WITH e, parents, indikator, collect(CASE WHEN j IS NULL THEN null ELSE j {.id, .name} END) AS jabatan
RETURN e {.*} AS element, parents, indikator, jabatan
ORDER BY e.seq
