// One plan's metadata, or no row when it is not loaded.
MATCH (p:Plan {id: $plan_id})
RETURN p {.*} AS plan
