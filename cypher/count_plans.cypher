// How many plans are loaded.
MATCH (p:Plan)
RETURN count(p) AS total
