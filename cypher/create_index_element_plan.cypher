// Index Element.plan (idempotent: the store ignores 'already exists').
CREATE INDEX FOR (n:Element) ON (n.plan)
