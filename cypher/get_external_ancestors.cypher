// Elements of other plans that elements of this plan contribute to (directly or further up), each with
// its parents, its indikator names and the jabatan (name, level) that own it; each list in a fixed
// order (uid, document order), not the engine's, which a reload changes.
MATCH (e:Element {plan: $plan_id})-[:CONTRIBUTES_TO*1..]->(x:Element)
WHERE x.plan <> $plan_id
WITH DISTINCT x
OPTIONAL MATCH (x)-[:CONTRIBUTES_TO]->(p:Element)
WITH x, p
ORDER BY p.uid
WITH x, collect(p.uid) AS parents
OPTIONAL MATCH (x)-[:MEASURED_BY]->(i:Indikator)
WITH x, parents, i
ORDER BY i.seq
WITH x, parents, collect(i.name) AS indikator
OPTIONAL MATCH (x)-[:OWNED_BY]->(j:Jabatan)
WITH x, parents, indikator, j
ORDER BY j.seq
RETURN x {.uid, .plan, .id, .level, .statement} AS element, parents, indikator,
       collect(CASE WHEN j IS NULL THEN null ELSE j {.uid, .id, .name, .level} END) AS jabatan
ORDER BY element.uid
