// Indikator of the given plans with realisasi (only those give a capaian), as stored, with their element:
// what the capaian rules recompute. Indikator written before n_realisasi was stored are all included.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})-[:MEASURED_BY]->(i)
WHERE i.n_realisasi IS NULL OR i.n_realisasi > 0
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement,
       i {.id, .name, .satuan, .polaritas, .formula, .values_json} AS indikator
ORDER BY plan, e.seq, i.seq
