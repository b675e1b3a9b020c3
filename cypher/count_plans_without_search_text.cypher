// How many plans lack search_text (written by versions before it existed): GraphStore.ensure_schema
// fills it in when there are any.
MATCH (p:Plan)
WHERE p.search_text IS NULL
RETURN count(p) AS plans
