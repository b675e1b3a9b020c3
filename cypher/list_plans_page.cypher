// One page of the plans whose id, pemda, perangkat daerah or title contains $q (lower case; '' for
// all), in id order, with the columns of list_plans: what the plans page shows, without reading every
// plan of a national store for each page. search_text is written with the plan (service.loading); a
// fallback expression for plans without it cost 50 ms at every search, as the embedded engine evaluates
// every branch of coalesce() and CASE, so GraphStore.ensure_schema fills it in for older data instead.
MATCH (p:Plan)
WHERE $q = '' OR p.search_text CONTAINS $q
WITH p
ORDER BY p.id
SKIP $skip
LIMIT $limit
RETURN p.id AS id, p.pemda AS pemda, p.perangkat_daerah AS perangkat_daerah, p.tahun AS tahun,
       p.periode AS periode, p.kind AS kind, p.title AS title, p.source_document AS source_document,
       p.loaded_at AS loaded_at, p.n_tujuan AS n_tujuan, p.n_sasaran AS n_sasaran, p.n_program AS n_program,
       p.n_kegiatan AS n_kegiatan, p.n_sub_kegiatan AS n_sub_kegiatan, p.n_indikator AS n_indikator,
       p.n_jabatan AS n_jabatan, p.anggaran_total AS anggaran_total
