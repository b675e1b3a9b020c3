// Index Jabatan.plan (idempotent: the store ignores 'already exists').
CREATE INDEX FOR (n:Jabatan) ON (n.plan)
