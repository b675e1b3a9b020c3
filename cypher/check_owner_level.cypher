// Owners whose jabatan level does not fit the element's level. $allowed lists the fitting pairs as
// 'element level/jabatan level' (from the owner_levels configuration). Returns plan, element id and
// level, jabatan id, name and level.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})-[:OWNED_BY]->(j)
WHERE NOT (e.level + '/' + j.level) IN $allowed
RETURN e.plan AS plan, e.id AS id, e.level AS level, j.id AS jabatan, j.name AS jabatan_name, j.level AS jabatan_level
ORDER BY plan, e.seq, j.seq
