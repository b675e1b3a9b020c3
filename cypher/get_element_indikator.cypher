// The indikator of the given elements (by uid), as stored, each with its element's uid.
MATCH (e:Element)-[:MEASURED_BY]->(i:Indikator)
WHERE e.uid IN $uids
RETURN e.uid AS element_uid, i {.*} AS indikator
ORDER BY e.uid, i.seq
