// Every ancestor of the cut elements (across plans), each with all its direct contributors,
// its indikator, owning jabatan, and the cut elements it stands above.
UNWIND $cuts AS cut
MATCH (c:Element {plan: split(cut, '/')[0], uid: cut})
MATCH (c)-[:CONTRIBUTES_TO*1..]->(a)
WITH a, collect(DISTINCT c.uid) AS above_cuts
OPTIONAL MATCH (k)-[:CONTRIBUTES_TO]->(a)
WITH a, above_cuts, collect(k.uid) AS children
OPTIONAL MATCH (a)-[:MEASURED_BY]->(i)
WITH a, above_cuts, children, collect(CASE WHEN i IS NULL THEN null ELSE i {.id, .name} END) AS indikator
OPTIONAL MATCH (a)-[:OWNED_BY]->(j)
RETURN a {.uid, .plan, .id, .level, .statement, .pagu} AS element, children, above_cuts, indikator,
       collect(CASE WHEN j IS NULL THEN null ELSE j {.uid, .id, .name, .level} END) AS jabatan
