// Every path from one element up to a top element (one with no parent), across plans:
// each path as a list of steps {uid, plan, id, level, statement}, starting at the element.
MATCH (n:Element {plan: split($uid, '/')[0], uid: $uid})
MATCH p = (n)-[:CONTRIBUTES_TO*0..]->(top)
WHERE NOT (top)-[:CONTRIBUTES_TO]->()
WITH p, length(p) AS hops, top.uid AS top_uid
RETURN [x IN nodes(p) | x {.uid, .plan, .id, .level, .statement}] AS path, hops
ORDER BY hops, top_uid
