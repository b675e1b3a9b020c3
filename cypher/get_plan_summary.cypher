// One plan with its counts per level, indikator, jabatan and total anggaran, or no row
// (the columns of list_plans).
MATCH (p:Plan {id: $plan_id})
RETURN p.id AS id, p.pemda AS pemda, p.perangkat_daerah AS perangkat_daerah, p.tahun AS tahun,
       p.periode AS periode, p.kind AS kind, p.title AS title, p.source_document AS source_document,
       p.loaded_at AS loaded_at, p.n_tujuan AS n_tujuan, p.n_sasaran AS n_sasaran, p.n_program AS n_program,
       p.n_kegiatan AS n_kegiatan, p.n_sub_kegiatan AS n_sub_kegiatan, p.n_indikator AS n_indikator,
       p.n_jabatan AS n_jabatan, p.anggaran_total AS anggaran_total
