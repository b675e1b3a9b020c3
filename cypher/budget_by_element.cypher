// For each element of one plan at the given level: the sum of pagu of the budgeted elements at or
// below it that have no budgeted element between them and it (so nothing is counted twice).
// A budgeted element is left out when any of its paths up to the element passes another budgeted
// one. One walk of the paths and one group per element: a second walk for the elements between, or a
// group per (element, budgeted element), cost 1.6x and 1.7x the engine time of this form.
MATCH (s:Element {plan: $plan_id})
WHERE s.level = $level
OPTIONAL MATCH p = (b)-[:CONTRIBUTES_TO*0..]->(s)
WHERE b.pagu IS NOT NULL
WITH s, collect(DISTINCT b) AS budgeted,
     collect(DISTINCT CASE WHEN any(x IN tail(nodes(p)) WHERE x.pagu IS NOT NULL) THEN b END) AS blocked
RETURN s.uid AS uid, s.id AS id, s.statement AS statement,
       reduce(t = 0, b IN budgeted | t + CASE WHEN b IN blocked THEN 0 ELSE b.pagu END) AS anggaran
ORDER BY s.seq
