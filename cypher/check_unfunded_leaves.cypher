// Lowest-level conditions nobody funds: sub kegiatan of one plan with nothing below them and no
// anggaran. Returns id, level, statement.
MATCH (e:Element {plan: $plan_id})
WHERE e.level = 'sub_kegiatan' AND e.pagu IS NULL AND NOT (e)<-[:CONTRIBUTES_TO]-()
RETURN e.id AS id, e.level AS level, e.statement AS statement
ORDER BY e.seq
