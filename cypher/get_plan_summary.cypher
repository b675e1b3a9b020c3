// One plan with its counts per level, indikator, jabatan and total anggaran (as list_plans), or no row.
// anggaran_total sums the pagu of budgeted elements that have no budgeted ancestor in the
// same plan (the programs, where programs carry a budget), so nothing is counted twice.
MATCH (p:Plan {id: $plan_id})
OPTIONAL MATCH (e:Element {plan: p.id})
WITH p, collect(e.level) AS levels
OPTIONAL MATCH (i:Indikator {plan: p.id})
WITH p, levels, count(i) AS n_indikator
OPTIONAL MATCH (j:Jabatan {plan: p.id})
WITH p, levels, n_indikator, count(j) AS n_jabatan
OPTIONAL MATCH (b:Element {plan: p.id})
WHERE b.pagu IS NOT NULL
OPTIONAL MATCH (b)-[:CONTRIBUTES_TO*1..]->(a:Element)
WHERE a.plan = b.plan AND a.pagu IS NOT NULL
WITH p, levels, n_indikator, n_jabatan, b, count(a) AS budgeted_ancestors
WITH p, levels, n_indikator, n_jabatan,
     sum(CASE WHEN b IS NOT NULL AND budgeted_ancestors = 0 THEN b.pagu ELSE 0 END) AS anggaran_total
RETURN p {.*} AS plan,
       {tujuan: size([l IN levels WHERE l = 'tujuan']),
        sasaran: size([l IN levels WHERE l = 'sasaran']),
        program: size([l IN levels WHERE l = 'program']),
        kegiatan: size([l IN levels WHERE l = 'kegiatan']),
        sub_kegiatan: size([l IN levels WHERE l = 'sub_kegiatan']),
        indikator: n_indikator,
        jabatan: n_jabatan} AS counts,
       anggaran_total
