// The cut elements and everything below them, each with all its parents (so a caller can keep
// what other parents still support), its pagu, indikator and owning jabatan.
UNWIND $cuts AS cut
MATCH (c:Element {plan: split(cut, '/')[0], uid: cut})
MATCH (d)-[:CONTRIBUTES_TO*0..]->(c)
WITH DISTINCT d
OPTIONAL MATCH (d)-[:CONTRIBUTES_TO]->(p)
WITH d, collect(p.uid) AS parents
OPTIONAL MATCH (d)-[:MEASURED_BY]->(i)
WITH d, parents, collect(CASE WHEN i IS NULL THEN null ELSE i {.id, .name} END) AS indikator
OPTIONAL MATCH (d)-[:OWNED_BY]->(j)
RETURN d {.uid, .plan, .id, .level, .statement, .pagu} AS element, parents, indikator,
       collect(CASE WHEN j IS NULL THEN null ELSE j {.uid, .id, .name, .level} END) AS jabatan
