// Indikator of the given plans as the indikator and capaian rules read them, with their element:
// - an element without indikator: one row, indikator_id null (the missing_indikator rule);
// - an indikator without target: has_target false (the missing_target rule);
// - an indikator with realisasi (only those give a capaian; n_realisasi null: written before it was
//   stored): the columns service.capaian.IndikatorView reads (the capaian rules recompute them).
// One query for the three: they walked the same MEASURED_BY edges (13 -> 8.4 ms for a kabupaten).
// Plain columns, not a map projection: maps made the embedded engine's reply four times slower.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
OPTIONAL MATCH (e)-[:MEASURED_BY]->(i)
WITH e, i
WHERE i IS NULL OR NOT i.has_target OR i.n_realisasi IS NULL OR i.n_realisasi > 0
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement, i.id AS indikator_id,
       i.name AS name, i.polaritas AS polaritas, i.has_target AS has_target, i.n_realisasi AS n_realisasi,
       i.values_json AS values_json
ORDER BY plan, e.seq, i.seq
