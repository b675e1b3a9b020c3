// Anggaran of the given plans written in a form that is not well-formed Indonesian rupiah (thousands in
// threes). Returns plan, id, level, which figure (pagu or realisasi), the text as written and how it reads.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.anggaran_wellformed = false OR e.realisasi_wellformed = false
RETURN e.plan AS plan, e.id AS id, e.level AS level,
       CASE WHEN e.anggaran_wellformed = false THEN e.anggaran_raw ELSE e.realisasi_raw END AS raw,
       CASE WHEN e.anggaran_wellformed = false THEN e.pagu ELSE e.realisasi_anggaran END AS reads_as,
       CASE WHEN e.anggaran_wellformed = false THEN 'pagu' ELSE 'realisasi' END AS figure
ORDER BY plan, e.seq
