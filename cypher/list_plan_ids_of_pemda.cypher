// The ids of the plans of one pemda (as the plans name it), in id order: what a pemda-wide check covers.
MATCH (p:Plan)
WHERE p.pemda = $pemda
RETURN p.id AS id
ORDER BY id
