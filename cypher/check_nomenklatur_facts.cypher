// The program, kegiatan and sub kegiatan of the given plans with their nomenclature code and name as
// written and their parents in the same plan: what the code rules (format, prefix, official list) read.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level IN ['program', 'kegiatan', 'sub_kegiatan']
OPTIONAL MATCH (e)-[:CONTRIBUTES_TO]->(p)
WITH e, collect(CASE WHEN p.plan = e.plan THEN p.id END) AS parents
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.code AS code, e.nomenklatur_name AS name, parents
ORDER BY plan, e.seq
