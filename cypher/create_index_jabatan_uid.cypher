// Index Jabatan.uid (idempotent: the store ignores 'already exists').
CREATE INDEX FOR (n:Jabatan) ON (n.uid)
