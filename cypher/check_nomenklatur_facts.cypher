// The program, kegiatan and sub kegiatan of the given plans with their nomenclature code and name as
// written: what the code rules (format, prefix, official list) read, with check_nomenklatur_parents.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level IN ['program', 'kegiatan', 'sub_kegiatan']
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.code AS code, e.nomenklatur_name AS name
ORDER BY plan, e.seq
