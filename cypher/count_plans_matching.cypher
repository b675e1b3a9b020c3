// How many plans have $q (lower case) in their id, pemda, perangkat daerah or title, as list_plans_page
// matches them.
MATCH (p:Plan)
WHERE p.search_text CONTAINS $q
RETURN count(p) AS matching
