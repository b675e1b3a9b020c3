// The predikat scale each of the given plans says its document prints (predikat_scale, a name in the
// scales configuration), where it says one. Returns plan and scale.
UNWIND $plan_ids AS plan_id
MATCH (p:Plan {id: plan_id})
WHERE p.predikat_scale IS NOT NULL
RETURN p.id AS plan, p.predikat_scale AS scale
