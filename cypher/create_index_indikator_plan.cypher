// Index Indikator.plan (idempotent: the store ignores 'already exists').
CREATE INDEX FOR (n:Indikator) ON (n.plan)
