// What the documents of the given plans do not give: the plan's `absent` (for every element) and its
// elements' (`absent_elements`, "id|aspect,aspect", written with the plan). Plans with neither are left out.
// Returns plan, plan_absent and elements (each null where not given).
UNWIND $plan_ids AS plan_id
MATCH (p:Plan {id: plan_id})
WHERE p.absent IS NOT NULL OR p.absent_elements IS NOT NULL
RETURN p.id AS plan, p.absent AS plan_absent, p.absent_elements AS elements
