// Every (element, owning jabatan) pair of one plan with both levels, for the owner-level rule.
MATCH (e:Element {plan: $plan_id})-[:OWNED_BY]->(j:Jabatan)
RETURN e.id AS id, e.level AS level, j.id AS jabatan, j.name AS jabatan_name, j.level AS jabatan_level
ORDER BY e.seq, j.seq
