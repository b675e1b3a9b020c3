// The parents in the same plan of the kegiatan and sub kegiatan that check_nomenklatur_facts returns
// (one row per edge), with the parent's level, code and name: where the code-prefix rule looks for the
// code above, and where a name without code is resolved first. A certified parent is not among the
// facts, so its code comes from here. (Apart from check_nomenklatur_facts: collecting the parents per
// element there made that query three times slower.)
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level IN ['kegiatan', 'sub_kegiatan']
  AND (e.code IS NOT NULL OR e.nomenklatur_name IS NOT NULL)
  AND (coalesce(e.code_ok, -1) <> $code_ok OR NOT e.code STARTS WITH $bidang_prefix)
MATCH (e)-[:CONTRIBUTES_TO]->(p)
WHERE p.plan = plan_id
RETURN e.plan AS plan, e.id AS id, p.id AS parent, p.level AS parent_level, p.code AS parent_code,
       p.nomenklatur_name AS parent_name
