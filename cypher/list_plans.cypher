// Every plan with its counts per level, indikator, jabatan and total anggaran.
// The counts and the total are written with the plan (service.loading.plan_summary): the total is the
// pagu of budgeted elements without a budgeted ancestor in the plan, so nothing is counted twice.
// Plain columns, not a map projection: 18,000 plans as maps took 0.55 s on the embedded engine.
MATCH (p:Plan)
RETURN p.id AS id, p.pemda AS pemda, p.perangkat_daerah AS perangkat_daerah, p.tahun AS tahun,
       p.periode AS periode, p.kind AS kind, p.title AS title, p.source_document AS source_document,
       p.loaded_at AS loaded_at, p.n_tujuan AS n_tujuan, p.n_sasaran AS n_sasaran, p.n_program AS n_program,
       p.n_kegiatan AS n_kegiatan, p.n_sub_kegiatan AS n_sub_kegiatan, p.n_indikator AS n_indikator,
       p.n_jabatan AS n_jabatan, p.anggaran_total AS anggaran_total
ORDER BY id
