// Index CrossRef.parent_plan (idempotent: the store ignores 'already exists').
CREATE INDEX FOR (n:CrossRef) ON (n.parent_plan)
