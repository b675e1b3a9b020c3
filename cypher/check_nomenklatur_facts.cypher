// The program, kegiatan and sub kegiatan of the given plans that the code rules (format, prefix,
// official list) must look at, with their nomenclature code and name as written, read with
// check_nomenklatur_parents. Left out: elements without code and name, and those the loader certified
// (code_ok, service.nomenklatur.certified: the pair exactly in the official list of version
// $code_ok, every parent one level up with a code it starts with) whose code lies in the bidang checked.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})
WHERE e.level IN ['program', 'kegiatan', 'sub_kegiatan']
  AND (e.code IS NOT NULL OR e.nomenklatur_name IS NOT NULL)
  AND (coalesce(e.code_ok, -1) <> $code_ok OR NOT e.code STARTS WITH $bidang_prefix)
RETURN e.plan AS plan, e.id AS id, e.level AS level, e.code AS code, e.nomenklatur_name AS name
ORDER BY plan, e.seq
