// What the documents of the given plans do not give, per element: its own `absent` (text lost in the
// conversion) and its plan's (what the whole document does not give). Elements with nothing absent are
// left out. Returns plan, element id, and the two lists (each null where not given).
UNWIND $plan_ids AS plan_id
MATCH (p:Plan {id: plan_id})
MATCH (e:Element {plan: plan_id})
WHERE e.absent IS NOT NULL OR p.absent IS NOT NULL
RETURN e.plan AS plan, e.id AS id, e.absent AS absent, p.absent AS plan_absent
