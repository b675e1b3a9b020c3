// The jabatan of one plan in document order, each with its atasan (id) and the ids of the elements it owns.
MATCH (j:Jabatan {plan: $plan_id})
OPTIONAL MATCH (j)-[:REPORTS_TO]->(a:Jabatan)
OPTIONAL MATCH (e:Element)-[:OWNED_BY]->(j)
WITH j, a, e
ORDER BY e.seq
RETURN j {.id, .name, .level, .unit, .seq} AS jabatan, a.id AS atasan, collect(e.id) AS elements
ORDER BY jabatan.seq
