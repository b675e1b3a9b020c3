// Every plan with its counts per level, indikator, jabatan and total anggaran.
// The counts and the total are written with the plan (service.loading.plan_summary): the total is the
// pagu of budgeted elements without a budgeted ancestor in the plan, so nothing is counted twice.
MATCH (p:Plan)
RETURN p {.*} AS plan,
       {tujuan: p.n_tujuan, sasaran: p.n_sasaran, program: p.n_program, kegiatan: p.n_kegiatan,
        sub_kegiatan: p.n_sub_kegiatan, indikator: p.n_indikator, jabatan: p.n_jabatan} AS counts,
       p.anggaran_total AS anggaran_total
ORDER BY p.id
