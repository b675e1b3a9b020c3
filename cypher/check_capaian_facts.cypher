// Indikator of the given plans with realisasi (only those give a capaian), as stored, with their element:
// what the capaian rules recompute (the columns service.capaian.IndikatorView reads, no more). Indikator written before n_realisasi was stored are all included.
// Plain columns, not a map projection: maps made the embedded engine's reply four times slower.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})-[:MEASURED_BY]->(i)
WHERE i.n_realisasi IS NULL OR i.n_realisasi > 0
RETURN e.plan AS plan, e.id AS id, e.statement AS statement, i.id AS indikator_id, i.name AS name,
       i.polaritas AS polaritas, i.values_json AS values_json
ORDER BY plan, e.seq, i.seq
