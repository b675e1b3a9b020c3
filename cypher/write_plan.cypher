// Replace one or more plans whole, in one statement so each is visible whole or not at all
// (the embedded engine rolls back a failing statement but has no multi-statement transactions).
// Several plans per statement make big loads faster: on the embedded engine each write step has a
// fixed cost that grows with the graph, paid once per statement instead of once per plan.
// Removes the plans' old nodes, writes the Plans, their Jabatan, Elements (one list per level, each
// labelled by level), Indikator, CONTRIBUTES_TO / OWNED_BY / REPORTS_TO edges, and CrossRef nodes for
// parents in other plans; then resolves cross-plan references in both directions.
// Parameters are flat lists (rows of properties, positions as lists of integers): nested rows made the
// engine copy each row's map again at every step (element and indikator creation 35 % slower).
// Returns the numbers written.
OPTIONAL MATCH (old:Plan)
WHERE old.id IN $plan_ids
DETACH DELETE old
WITH count(*) AS _
OPTIONAL MATCH (e:Element)-[:MEASURED_BY]->(i)
WHERE e.plan IN $plan_ids
DETACH DELETE i
WITH count(*) AS _
OPTIONAL MATCH (e:Element)
WHERE e.plan IN $plan_ids
DETACH DELETE e
WITH count(*) AS _
OPTIONAL MATCH (j:Jabatan)
WHERE j.plan IN $plan_ids
DETACH DELETE j
WITH count(*) AS _
OPTIONAL MATCH (x:CrossRef)
WHERE x.plan IN $plan_ids
DETACH DELETE x
WITH count(*) AS _
UNWIND $plans AS pl
CREATE (p:Plan)
SET p = pl
WITH count(*) AS _
UNWIND $jabatan AS r
CREATE (j:Jabatan)
SET j = r
WITH count(*) AS _
UNWIND $tujuan AS r
CREATE (n:Element:Tujuan)
SET n = r
WITH count(*) AS _
UNWIND $sasaran AS r
CREATE (n:Element:Sasaran)
SET n = r
WITH count(*) AS _
UNWIND $program AS r
CREATE (n:Element:KondisiAntara)
SET n = r
WITH count(*) AS _
UNWIND $kegiatan AS r
CREATE (n:Element:Kegiatan)
SET n = r
WITH count(*) AS _
UNWIND $sub_kegiatan AS r
CREATE (n:Element:SubKegiatan)
SET n = r
WITH count(*) AS _
// Indikator, edges and owners name elements and jabatan by position: the plans' nodes in the order of
// $plan_ids and then of seq (service.loading.merge_params numbers them so). A list lookup per end,
// where a uid index lookup was twice as slow and the uid index 0.5 s of every national restart.
UNWIND range(0, size($plan_ids) - 1) AS k
MATCH (e:Element {plan: $plan_ids[k]})
WITH k, e
ORDER BY k, e.seq
WITH collect(e) AS els
UNWIND range(0, size($indikator) - 1) AS x
WITH els[$indikator_of[x]] AS n, $indikator[x] AS r
CREATE (n)-[:MEASURED_BY]->(i:Indikator)
SET i = r
WITH count(*) AS _
UNWIND range(0, size($plan_ids) - 1) AS k
MATCH (e:Element {plan: $plan_ids[k]})
WITH k, e
ORDER BY k, e.seq
WITH collect(e) AS els
UNWIND range(0, size($edge_child) - 1) AS x
WITH els[$edge_child[x]] AS c, els[$edge_parent[x]] AS p
CREATE (c)-[:CONTRIBUTES_TO]->(p)
WITH count(*) AS _
UNWIND range(0, size($plan_ids) - 1) AS k
MATCH (e:Element {plan: $plan_ids[k]})
WITH k, e
ORDER BY k, e.seq
WITH collect(e) AS els
// (in a subquery: grouping jabatan rows by the element list made the engine hash the list per row)
CALL {
  UNWIND range(0, size($plan_ids) - 1) AS k
  MATCH (j:Jabatan {plan: $plan_ids[k]})
  WITH k, j
  ORDER BY k, j.seq
  RETURN collect(j) AS jabs
}
UNWIND range(0, size($owner_element) - 1) AS x
WITH els[$owner_element[x]] AS e, jabs[$owner_jabatan[x]] AS j
CREATE (e)-[:OWNED_BY]->(j)
WITH count(*) AS _
UNWIND $reports AS r
MATCH (j:Jabatan {uid: r.jabatan})
MATCH (a:Jabatan {uid: r.atasan})
CREATE (j)-[:REPORTS_TO]->(a)
WITH count(*) AS _
UNWIND $crossrefs AS r
CREATE (x:CrossRef)
SET x = r
WITH count(*) AS _
// (the WITH between the MATCHes makes the embedded engine look the elements up by the plan index
// instead of scanning every element per cross reference, which made national loads quadratic)
CALL {
  MATCH (x:CrossRef)
  WHERE x.plan IN $plan_ids
  WITH x
  MATCH (c:Element {plan: x.plan, uid: x.child})
  WITH x, c
  MATCH (p:Element {plan: x.parent_plan, uid: x.parent})
  CREATE (c)-[:CONTRIBUTES_TO {cross_plan: true}]->(p)
}
CALL {
  MATCH (x:CrossRef)
  WHERE x.parent_plan IN $plan_ids AND NOT x.plan IN $plan_ids
  WITH x
  MATCH (c:Element {plan: x.plan, uid: x.child})
  WITH x, c
  MATCH (p:Element {plan: x.parent_plan, uid: x.parent})
  CREATE (c)-[:CONTRIBUTES_TO {cross_plan: true}]->(p)
}
MATCH (e:Element)
WHERE e.plan IN $plan_ids
RETURN count(e) AS elements
