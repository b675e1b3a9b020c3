// The indikator of the given elements (by uid), as stored, each with its element's uid.
UNWIND $uids AS u
MATCH (e:Element {plan: split(u, '/')[0], uid: u})-[:MEASURED_BY]->(i:Indikator)
RETURN e.uid AS element_uid, i {.*} AS indikator
ORDER BY e.uid, i.seq
