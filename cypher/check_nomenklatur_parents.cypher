// The parents in the same plan of the kegiatan and sub kegiatan of the given plans (one row per edge):
// where the code-prefix rule looks for the code above. (Apart from check_nomenklatur_facts: collecting
// the parents per element there made that query three times slower.)
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})-[:CONTRIBUTES_TO]->(p)
WHERE p.plan = plan_id AND e.level IN ['kegiatan', 'sub_kegiatan']
RETURN e.plan AS plan, e.id AS id, p.id AS parent
