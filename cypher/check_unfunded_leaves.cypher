// Lowest-level conditions nobody funds: sub kegiatan of the given plans with nothing below them and no
// anggaran. Returns plan, id, level, statement.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level = 'sub_kegiatan' AND e.pagu IS NULL
OPTIONAL MATCH (e)<-[r:CONTRIBUTES_TO]-()
WITH e, r
WHERE r IS NULL
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement
ORDER BY plan, e.seq
