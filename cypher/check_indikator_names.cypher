// Indikator of the given plans whose name is suspect, for two rules (they walked the same MEASURED_BY
// edges and split the same names: one query instead of two, 16.3 -> 12.4 ms for a kabupaten):
// - unit_mismatch: the name starts with a count word ($count_words, e.g. 'jumlah') and a unit is a
//   percent ($percent_units), or with a proportion word ($proportion_words) and no unit is; the words
//   are the first word of each configured one, the caller confirms a word of several. Units are the
//   satuan and the units of the targets (only the satuan for indikator stored before units were),
//   compared lower-cased and trimmed.
// - compound: candidates for two measures joined by 'dan': the name starts with one of $first_words (the
//   first word of each measure word) and has ' dan ' later; the caller confirms the exact pattern.
// Names are compared in their normalised form (name_key: lower case, punctuation and spacing ignored).
// Returns plan, element id, the indikator name and name_key, its units, whether one is a percent, and
// which rule the row is for.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})-[:MEASURED_BY]->(i)
WITH e, i, split(i.name_key, ' ')[0] AS first,
     [u IN coalesce(i.units, CASE WHEN i.satuan IS NULL THEN [] ELSE [i.satuan] END) WHERE trim(u) <> '' | toLower(trim(u))] AS units
WITH e, i, first, units, any(u IN units WHERE u IN $percent_units) AS has_pct
WITH e, i, units, has_pct, first IN $first_words AND i.name_key CONTAINS ' dan ' AS compound,
     (first IN $count_words AND has_pct) OR (first IN $proportion_words AND NOT has_pct AND size(units) > 0) AS unit_mismatch
WHERE compound OR unit_mismatch
RETURN e.plan AS plan, e.id AS id, i.name AS indikator, i.name_key AS name_key, units, has_pct, compound, unit_mismatch
ORDER BY plan, e.seq, i.seq
