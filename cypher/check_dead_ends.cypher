// Dead ends: a tujuan, sasaran, program or kegiatan of the given plans with nothing below it
// (no contributor in any plan). Returns plan, id, level, statement.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level <> 'sub_kegiatan'
OPTIONAL MATCH (e)<-[r:CONTRIBUTES_TO]-()
WITH e, r
WHERE r IS NULL
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.statement AS statement
ORDER BY plan, e.seq
