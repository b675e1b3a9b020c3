// Which of the given plan ids are loaded, the version of each (when it was written: a check reads them
// before and after its rules, to tell a plan replaced while it was checked), its budget year and kind.
UNWIND $plan_ids AS plan_id
MATCH (p:Plan {id: plan_id})
RETURN p.id AS id, p.loaded_at AS loaded_at, p.tahun AS tahun, p.kind AS kind
