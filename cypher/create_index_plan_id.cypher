// Index Plan.id (idempotent: the store ignores 'already exists').
CREATE INDEX FOR (n:Plan) ON (n.id)
