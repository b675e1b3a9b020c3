// Fill in search_text on plans written before it existed, as service.loading.plan_params writes it:
// id, pemda, perangkat daerah and title, lower case, joined by spaces. Returns how many were filled.
MATCH (p:Plan)
WHERE p.search_text IS NULL
SET p.search_text = toLower(p.id + ' ' + p.pemda + ' ' + p.perangkat_daerah + CASE WHEN p.title IS NULL THEN '' ELSE ' ' + p.title END)
RETURN count(p) AS plans
