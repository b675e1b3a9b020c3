// Index CrossRef.plan (idempotent: the store ignores 'already exists').
CREATE INDEX FOR (n:CrossRef) ON (n.plan)
