// References from other plans' elements into the given plans whose parent element is not there: the plan
// was replaced by a version without it (or deleted). Returns the child's plan and uid and the parent uid it
// names; its CONTRIBUTES_TO edge comes back when an element of that id is loaded again.
UNWIND $plan_ids AS plan_id
MATCH (x:CrossRef {parent_plan: plan_id})
OPTIONAL MATCH (p:Element {plan: plan_id, uid: x.parent})
WITH x, p
WHERE p IS NULL
RETURN x.plan AS plan, x.child AS child, x.parent AS parent
ORDER BY plan, child, parent
