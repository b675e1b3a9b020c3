// Dead ends: a tujuan, sasaran, program or kegiatan of one plan with nothing below it
// (no contributor in any plan). Returns id, level, statement.
MATCH (e:Element {plan: $plan_id})
WHERE e.level <> 'sub_kegiatan' AND NOT (e)<-[:CONTRIBUTES_TO]-()
RETURN e.id AS id, e.level AS level, e.statement AS statement
ORDER BY e.seq
